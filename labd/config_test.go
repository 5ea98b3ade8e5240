package main

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestLabDomainFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for accepted
	}{
		{nil, ""},
		{[]string{"--url", "https://academy.example.com", "--lab-domain", "labs.example.net"}, ""},
		{[]string{"--url", "https://academy.example.com", "--lab-domain", "labs.academy.example.com."}, ""},
		{[]string{"--url", "https://academy.example.com", "--lab-domain", "example.com"}, "holds the portal's host"},
		{[]string{"--url", "https://academy.example.com", "--lab-domain", "Academy.Example.com"}, "holds the portal's host"},
		{[]string{"--lab-domain", "localhost"}, "want a DNS name"},
		{[]string{"--lab-domain", "*.labs.example.net"}, "want a DNS name"},
		{[]string{"--lab-domain", "labs.example.net:8080"}, "want a DNS name"},
	} {
		var c config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.flags(fs, func(string) string { return "" })
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := c.finish()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
