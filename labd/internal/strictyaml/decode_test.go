package strictyaml

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type upper string

func (u *upper) DecodeNode(n *yaml.Node) error {
	if n.Value == "" {
		return errors.New("want some text")
	}
	*u = upper(strings.ToUpper(n.Value))
	return nil
}

type doc struct {
	Name  string  `field:"name,required"`
	Count int     `field:"count"`
	Ratio float64 `field:"ratio"`
	On    bool    `field:"on"`
	Tags  []upper `field:"tags"`
	Inner struct {
		A string `field:"a,required"`
	} `field:"inner"`
	Skip string
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // the errors, one per line; "" for none
	}{
		{"good", "name: x\ncount: 3\nratio: 0.5\non: true\ntags: [a, b]\ninner: {a: y}\n", ""},
		{"unknown field", "base: &b {a: z}\n", "f:1: base: unknown field (known: name, count, ratio, on, tags, inner)\nf:1: name: missing (required)"},
		{"merged mapping", "name: x\ninner:\n  <<: {a: merged}\n", ""},
		{"every problem at once", "name: [x]\ncount: many\nratio: \"1\"\non: yes\ntags: [\"\"]\ninner: {}\nskip: 1\n",
			"f:1: name: want a single value, found a list\nf:2: count: want a whole number, found \"many\"\n" +
				"f:3: ratio: want a number, found \"1\"\nf:4: on: want true or false, found \"yes\"\n" +
				"f:5: tags[0]: want some text\nf:6: inner.a: missing (required)\nf:7: skip: unknown field (known: name, count, ratio, on, tags, inner)"},
		{"twice", "name: x\nname: y\n", "f:2: name: field given twice"},
		{"not a mapping", "- a\n", "f:1: (document): want a mapping of fields, found a list"},
		{"empty", "", "f:1: (document): empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			dec := Decode("f", []byte(tc.in), &d)
			got := ""
			if errs := dec.Errs(); errs != nil {
				got = errs.Error()
			}
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	var d doc
	dec := Decode("f", []byte("name: x\ninner:\n  a: y\n"), &d)
	if d.Inner.A != "y" || dec.Line("inner.a") != 3 || !dec.Decoded() {
		t.Errorf("decoded %+v, line %d", d, dec.Line("inner.a"))
	}
	dec.Fail("inner.a", "too %s", "short")
	dec.Fail("inner.a.deeper", "said already")
	if errs := dec.Errs(); len(errs) != 1 || errs[0].Error() != "f:3: inner.a: too short" {
		t.Errorf("Fail: %v", errs)
	}
}
