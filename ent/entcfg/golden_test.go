package entcfg

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestRegeneratingChangesNothing generates ent and the entgql schema into a temporary
// folder and compares every file with what is committed.
func TestRegeneratingChangesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the code generator (about a minute)")
	}
	out := t.TempDir()
	schema := filepath.Join(out, "ent.graphqls")
	if err := Generate("../schema", out, schema, "../../gqlgen.yml"); err != nil {
		t.Fatal(err)
	}
	compare(t, schema, "../../graph/ent.graphqls")
	n := 0
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".go" {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		compare(t, path, filepath.Join("..", rel))
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d generated files compared; the generator wrote less than expected", n)
	}
}

func compare(t *testing.T, fresh, committed string) {
	t.Helper()
	a, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(committed)
	if err != nil {
		t.Errorf("%s is generated but not committed", committed)
		return
	}
	if !bytes.Equal(withoutVersion(a), withoutVersion(b)) {
		t.Errorf("%s differs from what ent/schema generates: run `make generate` and commit", committed)
	}
}

// versionBlock is the ent version stamp in runtime/runtime.go. ent writes it from the build
// information of the generating binary, which a test binary does not carry.
var versionBlock = regexp.MustCompile(`(?s)\n*const \(\n\tVersion = "[^"]*"[^\n]*\n\tSum +=[^\n]*\n\)\n`)

func withoutVersion(b []byte) []byte { return versionBlock.ReplaceAll(b, []byte("\n")) }
