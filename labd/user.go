package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"golang.org/x/sys/unix"
	"golang.org/x/text/width"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

const userUsage = `Usage:
  labd user add    --email E --name N [--role trainee|lecturer|admin] [--password-stdin]
  labd user list
  labd user passwd --email E [--password-stdin]
  labd user role   --email E --role trainee|lecturer|admin
  labd user deactivate --email E   no more sign-ins; their sign-ins and tokens stop at once
  labd user activate   --email E   let a deactivated user sign in again
  labd user delete     --email E   remove their e-mail, name, password, sign-ins and
                                   invitations; certificates stay valid
Each takes --data DIR (default ./data, $LABD_DATA) and --db URL (default $LABD_DB;
empty: DIR/labd.db). Without --password-stdin the password is asked on the
terminal, twice, without echo.
`

// userCmd manages accounts in labd's database (--db, or the data folder's
// SQLite file); it works beside a running labd.
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
	dbURL := dbFlag(fs, getenv)
	var email, name, role *string
	var fromStdin *bool
	switch sub {
	case "add", "passwd", "role", "deactivate", "activate", "delete":
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
	db, err := openDB(ctx, *dbURL, data)
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
	case "deactivate", "activate", "delete":
		a, err := accounts.ByEmail(ctx, *email)
		if err != nil {
			return err
		}
		switch sub {
		case "deactivate":
			if _, err := accounts.Deactivate(ctx, a.ID); err != nil {
				return err
			}
			// The lab sessions belong to the running labd: they end with their
			// idle timeout, unreachable meanwhile (the API ends them at once).
			fmt.Fprintf(stdout, "%s is deactivated: their sign-ins and tokens no longer work\n", a.Email)
		case "activate":
			if _, err := accounts.Activate(ctx, a.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s is active again\n", a.Email)
		case "delete":
			if err := accounts.Delete(ctx, a.ID); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "deleted %s (%s): their personal data is gone, their certificates stay valid\n", a.Email, a.ID)
		}
	case "list":
		list, err := accounts.List(ctx)
		if err != nil {
			return err
		}
		rows := [][]string{{"ID", "E-MAIL", "NAME", "ROLE", "STATE", "CREATED"}}
		for _, a := range list {
			rows = append(rows, []string{a.ID, a.Email, a.Name, string(a.Role), a.State(), a.Created.Local().Format(time.DateTime)})
		}
		return writeTable(stdout, rows)
	}
	return nil
}

// writeTable writes rows in columns two spaces apart, padded by display
// width: a CJK character takes two cells of a terminal (text/tabwriter
// counts runes, so a Chinese name pushed the columns after it out of line).
func writeTable(w io.Writer, rows [][]string) error {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, cell := range row {
			b.WriteString(cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth is how many terminal cells s takes: East Asian wide and
// fullwidth characters two, combining marks and other zero-width ones none.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) || r == 0x200B:
		case width.LookupRune(r).Kind() == width.EastAsianWide || width.LookupRune(r).Kind() == width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
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
