package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// issuerName is who labd's certificates say issued them.
const issuerName = "XSKY Academy"

// issuerNameZH is its name on Chinese pages and the PDF, as the site says it.
const issuerNameZH = "XSKY 学院"

func dataDir(getenv func(string) string) string {
	if d := getenv("LABD_DATA"); d != "" {
		return d
	}
	return "./data"
}

// keysCmd is `labd keys rotate|list`: the certificate signing keys in the
// data folder. A running labd picks a rotation up by itself.
func keysCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" && args[0] != "list" {
		fmt.Fprintln(stderr, "usage: labd keys rotate|list [--data ./data]")
		return errUsage
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDir(getenv), "data folder ($LABD_DATA)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	keys, err := certificate.OpenKeys(filepath.Join(*data, "keys"))
	if err != nil {
		return err
	}
	if args[0] == "rotate" {
		k, err := keys.Rotate()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new signing key %s; earlier keys stay published and keep verifying\n", k.ID)
		return nil
	}
	list, err := keys.List()
	if err != nil {
		return err
	}
	for _, k := range list {
		state := "retired"
		if k.Signing {
			state = "signing"
		}
		fmt.Fprintf(stdout, "%s  %-7s  created %s\n", k.ID, state, k.Created.Format(time.RFC3339))
	}
	return nil
}

// errInvalidCert is a certificate that verified but is not valid (exit 1).
var errInvalidCert = errors.New("certificate is not valid")

// certCmd is `labd cert verify FILE.jwt [--jwks FILE] [--status FILE]`:
// offline verification with published keys (or the data folder's) and,
// optionally, a saved status list.
func certCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: labd cert verify FILE.jwt [--jwks FILE] [--status FILE] [--issuer URL]")
		return errUsage
	}
	fs := flag.NewFlagSet("cert verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jwks := fs.String("jwks", "", "the issuer's JWKS (/.well-known/jwks.json); default: the keys in --data")
	status := fs.String("status", "", "a saved revocation status list (/status/revocation/N)")
	issuer := fs.String("issuer", "", "accept only this issuer (its site URL)")
	data := fs.String("data", dataDir(getenv), "data folder whose keys to use without --jwks ($LABD_DATA)")
	// The file may come before or after the flags.
	var file string
	rest := args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		file, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 || file == "" {
		fmt.Fprintln(stderr, "usage: labd cert verify FILE.jwt [--jwks FILE] [--status FILE] [--issuer URL]")
		return errUsage
	}
	token, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var keys certificate.KeySet
	if *jwks != "" {
		b, err := os.ReadFile(*jwks)
		if err != nil {
			return err
		}
		if keys, err = certificate.ParseJWKS(b); err != nil {
			return fmt.Errorf("%s: %w", *jwks, err)
		}
	} else {
		dir := filepath.Join(*data, "keys")
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("no keys to verify with: give --jwks FILE (the issuer's /.well-known/jwks.json) or --data: %w", err)
		}
		if keys, err = certificate.OpenKeys(dir); err != nil {
			return err
		}
	}
	v := certificate.Verifier{Keys: keys, Issuer: *issuer}
	if *status != "" {
		b, err := os.ReadFile(*status)
		if err != nil {
			return err
		}
		if v.Status, err = certificate.ParseStatusList(string(trimSpace(b)), keys, *issuer); err != nil {
			return fmt.Errorf("%s: %w", *status, err)
		}
	}
	ver, err := v.Verify(string(trimSpace(token)))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	c, err := ver.Credential()
	if err != nil {
		return err
	}
	name := c.AchievementName()
	fmt.Fprintf(stdout, "holder:   %s\n", c.Holder())
	fmt.Fprintf(stdout, "program:  %s / %s\n", name.EN, name.ZH)
	fmt.Fprintf(stdout, "issuer:   %s (%s)\n", c.Issuer.Name, c.Issuer.ID)
	fmt.Fprintf(stdout, "issued:   %s\n", ver.Issued.UTC().Format(time.DateOnly))
	if ver.Expires.IsZero() {
		fmt.Fprintf(stdout, "expires:  never\n")
	} else {
		fmt.Fprintf(stdout, "expires:  %s\n", ver.Expires.UTC().Format(time.DateOnly))
	}
	fmt.Fprintf(stdout, "key:      %s\n", ver.KeyID)
	for _, r := range c.Results() {
		fmt.Fprintf(stdout, "result:   %s: %g%% (pass mark %g%%)\n", r.Name.EN, r.Score, r.PassMark)
	}
	checked := "status list checked"
	switch {
	case v.Status != nil && !ver.StatusChecked:
		url := ""
		if c.CredentialStatus != nil {
			url = c.CredentialStatus.StatusListCredential
		}
		fmt.Fprintf(stdout, "status:   %s (NOT checked: the certificate's list is %s, --status is %s)\n", ver.Status, url, v.Status.URL)
		return fmt.Errorf("%s: the status list given is not the certificate's", file)
	case v.Status == nil:
		checked = "revocation not checked: no --status given"
	}
	fmt.Fprintf(stdout, "status:   %s (%s)\n", ver.Status, checked)
	if err := ver.Err(); err != nil {
		return fmt.Errorf("%w: %w", errInvalidCert, err)
	}
	return nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}
