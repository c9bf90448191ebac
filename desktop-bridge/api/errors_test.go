package api

import (
	"os"
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// schemaErrorCodes reads enum ErrorCode from the server's schema file itself.
func schemaErrorCodes(t *testing.T) []string {
	t.Helper()
	const path = "../../graph/schema.graphqls"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the server's schema: %v", err)
	}
	doc, err := parser.ParseSchema(&ast.Source{Name: path, Input: string(src)})
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	def := doc.Definitions.ForName("ErrorCode")
	if def == nil || def.Kind != ast.Enum {
		t.Fatalf("%s has no enum ErrorCode", path)
	}
	var out []string
	for _, v := range def.EnumValues {
		out = append(out, v.Name)
	}
	return out
}

// TestKnowsEveryErrorCode checks that the bridge's codes are the server's: every code the
// schema lists is one the bridge has a constant for, and Code reads it from an error.
func TestKnowsEveryErrorCode(t *testing.T) {
	codes := schemaErrorCodes(t)
	if len(codes) < 10 {
		t.Fatalf("the schema lists only %d error codes: %v", len(codes), codes)
	}
	for _, c := range codes {
		if !slices.Contains(AllErrorCode, ErrorCode(c)) {
			t.Errorf("the bridge does not know the server's error code %s: run `make generate`", c)
		}
		err := gqlerror.List{{Message: "refused", Extensions: map[string]any{"code": c}}}
		if got := Code(err); got != ErrorCode(c) {
			t.Errorf("Code(error with %s) = %q", c, got)
		}
	}
	for _, c := range AllErrorCode {
		if !slices.Contains(codes, string(c)) {
			t.Errorf("the bridge knows %s, which the schema no longer lists: run `make generate`", c)
		}
	}
}
