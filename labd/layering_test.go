package main

import (
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestDomainImportsNoAdapters keeps the domain packages free of Docker, SQL
// and HTTP: adapters (docker, sqlite, api) implement the domain's
// interfaces, never the other way round. Each domain package may use only
// the internal packages listed for it.
func TestDomainImportsNoAdapters(t *testing.T) {
	domains := map[string][]string{ // package -> internal packages it may import
		"lab":         {"strictyaml"},
		"certificate": nil,
		"exam":        {"lab", "strictyaml"},
		"class":       {"lab"},
		"killercoda":  nil, // scenarios in, files out
	}
	forbidden := []string{"net/http", "database/sql", "github.com/docker/", "modernc.org/", "github.com/gorilla/"}
	const internal = "github.com/xsky-academy/academy/labd/internal/"
	for pkg, allowed := range domains {
		files, _ := filepath.Glob(filepath.Join("internal", pkg, "*.go"))
		if len(files) == 0 {
			t.Errorf("no package internal/%s", pkg)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(gotoken.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if dep, ok := strings.CutPrefix(path, internal); ok && !slices.Contains(allowed, dep) {
					t.Errorf("%s imports %s", file, path)
				}
				for _, bad := range forbidden {
					if strings.HasPrefix(path, bad) {
						t.Errorf("%s imports %s", file, path)
					}
				}
			}
		}
	}
}
