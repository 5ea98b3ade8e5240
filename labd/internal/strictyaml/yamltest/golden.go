// Package yamltest checks what the strict decoder reports about a broken
// file against a golden file, for the tests of every format built on it.
package yamltest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/strictyaml"
)

// Golden compares err, which must be strictyaml.FieldErrors with a line
// for each, with the golden file beside file (x.yaml -> x.golden); update
// rewrites the golden file first.
func Golden(t testing.TB, file string, err error, update bool) {
	t.Helper()
	var fe strictyaml.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want FieldErrors", err)
	}
	got := err.Error() + "\n"
	golden := strings.TrimSuffix(file, ".yaml") + ".golden"
	if update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, rerr := os.ReadFile(golden)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	for _, e := range fe {
		if e.Line == 0 {
			t.Errorf("error without a line: %v", e)
		}
	}
}
