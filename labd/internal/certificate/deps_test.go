package certificate

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDomainImportsNoAdapters keeps SQL and HTTP out of the certificate
// domain: the sqlite and api packages adapt it, never the other way round.
func TestDomainImportsNoAdapters(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	forbidden := []string{"net/http", "database/sql", "modernc.org/", "github.com/docker/", "/labd/internal/"}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if strings.Contains(path, bad) {
					t.Errorf("%s imports %s", file, path)
				}
			}
		}
	}
}
