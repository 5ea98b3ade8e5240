package class

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// RosterRow is one trainee read from a roster file.
type RosterRow struct {
	Line        int
	Name, Email string
}

// LineError is what is wrong with one line of a roster file.
type LineError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e LineError) String() string { return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Message) }

// RosterError lists every bad line of a roster; nothing of it was imported.
type RosterError []LineError

func (e RosterError) Error() string {
	var b strings.Builder
	b.WriteString("the roster was not imported: ")
	for i, le := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(le.String())
	}
	return b.String()
}

// EInvalidRoster is the error code of a refused roster.
const EInvalidRoster = "invalid_roster"

// ErrorCode makes a roster error a 400 with its lines in the message.
func (e RosterError) ErrorCode() string { return EInvalidRoster }

// ErrorDetails gives the API every bad line, for a page to show by number.
func (e RosterError) ErrorDetails() any { return []LineError(e) }

// maxRoster bounds a roster file's rows.
const maxRoster = 500

// ParseRoster reads a CSV roster: a row per trainee with a name and an
// e-mail address, in that order, an optional header row (name,email),
// UTF-8 with or without a byte-order mark, commas or semicolons. Every bad
// line is reported; a roster with any bad line is refused whole.
func ParseRoster(b []byte) ([]RosterRow, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		return nil, RosterError{{1, "file", "the file is not UTF-8 text; save the CSV as UTF-8"}}
	}
	r := csv.NewReader(bytes.NewReader(b))
	if first, _, _ := strings.Cut(string(b), "\n"); strings.Count(first, ";") > strings.Count(first, ",") {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var rows []RosterRow
	var errs RosterError
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, LineError{pe.Line, "csv", pe.Err.Error()})
				continue
			}
			return nil, err
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rows) == 0 && len(errs) == 0 && isHeader(rec) {
			continue
		}
		if len(rec) != 2 {
			errs = append(errs, LineError{line, "columns", fmt.Sprintf("want 2 (name, email), found %d", len(rec))})
			continue
		}
		name, email := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		switch {
		case name == "":
			errs = append(errs, LineError{line, "name", "empty"})
		case len(name) > 200:
			errs = append(errs, LineError{line, "name", "longer than 200 characters"})
		}
		addr, err := mail.ParseAddress(email)
		switch {
		case email == "":
			errs = append(errs, LineError{line, "email", "empty"})
		case err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndex(email, "@")+1:], "."):
			errs = append(errs, LineError{line, "email", fmt.Sprintf("%q is not an e-mail address", email)})
		default:
			email = strings.ToLower(email)
			if first, dup := seen[email]; dup {
				errs = append(errs, LineError{line, "email", fmt.Sprintf("%s is also on line %d", email, first)})
			}
			seen[email] = line
		}
		rows = append(rows, RosterRow{line, name, email})
		if len(rows) > maxRoster {
			return nil, RosterError{{line, "file", fmt.Sprintf("more than %d trainees", maxRoster)}}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(rows) == 0 {
		return nil, RosterError{{1, "file", "no trainees: write one per line as name,email"}}
	}
	return rows, nil
}

func isHeader(rec []string) bool {
	if len(rec) != 2 {
		return false
	}
	a, b := strings.ToLower(strings.TrimSpace(rec[0])), strings.ToLower(strings.TrimSpace(rec[1]))
	return (a == "name" || a == "姓名") && (b == "email" || b == "e-mail" || b == "邮箱")
}
