package certificate

// Runs exposes runs to the tests as "cjk:…" and "latin:…".
func Runs(s string) []string {
	var out []string
	for _, r := range runs(s) {
		face := "latin:"
		if r.cjk {
			face = "cjk:"
		}
		out = append(out, face+r.text)
	}
	return out
}
