package lab

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDomainImportsNoAdapters keeps the domain free of Docker, SQL and HTTP:
// adapters implement its interfaces, never the other way round.
func TestDomainImportsNoAdapters(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	forbidden := []string{"net/http", "database/sql", "github.com/docker/", "modernc.org/", "/labd/internal/"}
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
			if strings.HasSuffix(path, "/labd/internal/strictyaml") {
				continue // a file format helper, not an adapter
			}
			for _, bad := range forbidden {
				if strings.Contains(path, bad) {
					t.Errorf("%s imports %s", file, path)
				}
			}
		}
	}
}
