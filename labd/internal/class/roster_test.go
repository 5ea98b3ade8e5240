package class

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseRoster(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []RosterRow
		errs []string // LineError strings
	}{
		{name: "header, BOM, CRLF, spaces",
			in:   "\xef\xbb\xbfname,email\r\n王小明, Wang@Example.com\r\nAda Lovelace,ada@example.org\r\n",
			want: []RosterRow{{2, "王小明", "wang@example.com"}, {3, "Ada Lovelace", "ada@example.org"}}},
		{name: "no header, semicolons, blank line",
			in:   "Li Lei;li@example.cn\n\nHan Meimei;han@example.cn\n",
			want: []RosterRow{{1, "Li Lei", "li@example.cn"}, {3, "Han Meimei", "han@example.cn"}}},
		{name: "Chinese header", in: "姓名,邮箱\n张三,zhang@example.com\n",
			want: []RosterRow{{2, "张三", "zhang@example.com"}}},
		{name: "quoted comma in a name", in: "\"Smith, Jane\",jane@example.com\n",
			want: []RosterRow{{1, "Smith, Jane", "jane@example.com"}}},
		{name: "every bad line reported",
			in: "name,email\nA,a@example.com\nB\n,c@example.com\nD,not-an-address\nE,A@example.com\nF,f@localhost\nG,g@example.com,extra\n",
			errs: []string{
				"line 3: columns: want 2 (name, email), found 1",
				"line 4: name: empty",
				`line 5: email: "not-an-address" is not an e-mail address`,
				"line 6: email: a@example.com is also on line 2",
				`line 7: email: "f@localhost" is not an e-mail address`,
				"line 8: columns: want 2 (name, email), found 3",
			}},
		{name: "display-name address refused", in: "A,Ann <ann@example.com>\n",
			errs: []string{`line 1: email: "Ann <ann@example.com>" is not an e-mail address`}},
		{name: "bare quote", in: "A,a@example.com\nB \"x,b@example.com\n",
			errs: []string{`line 2: csv: bare " in non-quoted-field`}},
		{name: "empty", in: "name,email\n", errs: []string{"line 1: file: no trainees: write one per line as name,email"}},
		{name: "not UTF-8", in: "A,a@example.com\n\xff\xfe\n", errs: []string{"line 1: file: the file is not UTF-8 text; save the CSV as UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ParseRoster([]byte(tt.in))
			var re RosterError
			if tt.errs == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rows, tt.want) {
					t.Errorf("rows %+v, want %+v", rows, tt.want)
				}
				return
			}
			if !errors.As(err, &re) {
				t.Fatalf("error %v, want a RosterError", err)
			}
			var got []string
			for _, le := range re {
				got = append(got, le.String())
			}
			if !slices.Equal(got, tt.errs) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.errs, "\n"))
			}
			if rows != nil {
				t.Error("rows returned with errors")
			}
		})
	}
}

func TestParseRosterTooLong(t *testing.T) {
	var b strings.Builder
	for i := range maxRoster + 1 {
		b.WriteString("T,t" + strconv.Itoa(i) + "@example.com\n")
	}
	if _, err := ParseRoster([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "more than 500") {
		t.Errorf("error %v", err)
	}
}

func FuzzParseRoster(f *testing.F) {
	f.Add([]byte("name,email\nA,a@example.com\n"))
	f.Add([]byte("A;a@example.com\nB;b@example.com"))
	f.Add([]byte("\"x\ny\",a@b.c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ParseRoster(b)
		if (err == nil) == (rows == nil) {
			t.Fatalf("rows %v and err %v", rows, err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Name == "" || !strings.Contains(r.Email, "@") || seen[r.Email] || r.Line < 1 {
				t.Fatalf("bad row accepted: %+v", r)
			}
			seen[r.Email] = true
		}
	})
}
