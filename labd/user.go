package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

const userUsage = `Usage:
  labd user add    --email E --name N [--role trainee|lecturer|admin] [--password-stdin]
  labd user list
  labd user passwd --email E [--password-stdin]
  labd user role   --email E --role trainee|lecturer|admin
Each takes --data DIR (default ./data, $LABD_DATA). Without --password-stdin the
password is asked on the terminal, twice, without echo.
`

// userCmd manages accounts in the data folder's database; it works beside a
// running labd (SQLite in WAL mode).
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := getenv("LABD_DATA")
	if data == "" {
		data = "./data"
	}
	fs.StringVar(&data, "data", data, "data folder holding labd.db ($LABD_DATA)")
	var email, name, role *string
	var fromStdin *bool
	switch sub {
	case "add", "passwd", "role":
		email = fs.String("email", "", "the user's e-mail")
	case "list":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, userUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "labd user: unknown command %q\n\n%s", sub, userUsage)
		return errUsage
	}
	if sub == "add" {
		name = fs.String("name", "", "the user's name")
	}
	if sub == "add" || sub == "role" {
		def := ""
		if sub == "add" {
			def = "trainee"
		}
		role = fs.String("role", def, "trainee, lecturer or admin")
	}
	if sub == "add" || sub == "passwd" {
		fromStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("user %s: unexpected argument %q", sub, fs.Arg(0))
	}
	if email != nil && *email == "" {
		return fmt.Errorf("user %s: --email is required", sub)
	}
	if role != nil && *role == "" {
		return fmt.Errorf("user %s: --role is required", sub)
	}
	var r auth.Role
	if role != nil {
		var err error
		if r, err = auth.ParseRole(*role); err != nil {
			return err
		}
	}
	// Read the password before touching the database, so bad input leaves nothing behind.
	var password string
	if fromStdin != nil {
		var err error
		if password, err = readPassword(stdin, stderr, *fromStdin); err != nil {
			return err
		}
		if err := auth.CheckPasswordRules(password); err != nil {
			return err
		}
	}
	db, err := sqlite.Open(ctx, filepath.Join(data, "labd.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	accounts, err := auth.NewAccounts(db, auth.Options{})
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		a, err := accounts.Add(ctx, *email, *name, r, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s %s (%s)\n", a.ID, a.Email, a.Role)
	case "passwd":
		if err := accounts.SetPassword(ctx, *email, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password changed for %s; their sign-ins were ended\n", strings.ToLower(strings.TrimSpace(*email)))
	case "role":
		a, err := accounts.ByEmail(ctx, *email)
		if err != nil {
			return err
		}
		if a, err = accounts.SetRole(ctx, a.ID, r); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s\n", a.Email, a.Role)
	case "list":
		list, err := accounts.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tE-MAIL\tNAME\tROLE\tSTATE\tCREATED")
		for _, a := range list {
			state := "active"
			if !a.Active() {
				state = "invited"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Email, a.Name, a.Role, state, a.Created.Local().Format(time.DateTime))
		}
		return tw.Flush()
	}
	return nil
}

// readPassword reads the first line of stdin, or, when asked to prompt,
// asks twice on the terminal with echo off.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", errors.New("--password-stdin: no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := stdin.(*os.File)
	if !ok {
		return "", errors.New("no terminal to ask the password on: use --password-stdin")
	}
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", errors.New("standard input is not a terminal: use --password-stdin")
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old)
	in := bufio.NewReader(f)
	ask := func(prompt string) (string, error) {
		fmt.Fprint(stderr, prompt)
		line, err := in.ReadString('\n')
		fmt.Fprintln(stderr)
		return strings.TrimRight(line, "\r\n"), err
	}
	p1, err := ask("Password: ")
	if err != nil {
		return "", err
	}
	p2, err := ask("Again: ")
	if err != nil {
		return "", err
	}
	if p1 != p2 {
		return "", errors.New("the two passwords differ")
	}
	return p1, nil
}
