package handoff

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/tpmverify"
)

// TestFailureCodesFile: the list the portal's tests read (frontend/src/wizard/
// failureCodes.test.ts checks that failureWords has words for each code in every
// language) is the one FailureCodes gives; make generate writes it.
func TestFailureCodesFile(t *testing.T) {
	got, err := os.ReadFile("../../" + FailureCodesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, FailureCodesJSON()) {
		t.Errorf("%s is out of date: run make generate and commit it\nhave:\n%s\nwant:\n%s", FailureCodesFile, got, FailureCodesJSON())
	}
}

// TestFailureCodes: what failureReason sends for a code is in FailureCodes exactly when the
// code is not one of notFailureReasons, and every exclusion names a code that exists.
func TestFailureCodes(t *testing.T) {
	list := FailureCodes()
	for c := range notFailureReasons {
		if !slices.Contains(allCodes, c) {
			t.Errorf("notFailureReasons names %s, which allCodes does not list", c)
		}
		if slices.Contains(list, string(c)) {
			t.Errorf("FailureCodes lists %s, which never reaches the server", c)
		}
	}
	for _, c := range allCodes {
		_, excluded := notFailureReasons[c]
		reason := failureReason(fmt.Errorf("run: %w", &Error{Code: c, Detail: "detail for the log"}))
		if reason != ReasonPrefix+string(c) {
			t.Errorf("failureReason(%s) = %q", c, reason)
		}
		if !excluded && !slices.Contains(list, string(c)) {
			t.Errorf("FailureCodes lacks %s", c)
		}
	}
	for _, r := range tpmverify.Reasons() {
		err := fmt.Errorf("submit keys: %w", gqlerror.List{{Message: "The TPM evidence was refused.",
			Extensions: map[string]any{"code": "INVALID_INPUT", "reason": string(r)}}})
		if got := failureReason(err); got != ReasonPrefix+string(r) || !slices.Contains(list, string(r)) {
			t.Errorf("the server's %s: failureReason = %q, in FailureCodes: %v", r, got, slices.Contains(list, string(r)))
		}
	}
	// A fault without a code is a text for the operator, never a code.
	if got := failureReason(errors.New("insert card: EOF")); strings.HasPrefix(got, ReasonPrefix) {
		t.Errorf("failureReason(no code) = %q", got)
	}
}

// TestRenewalInterruptedIsTheServers: the server fails a renewal cut short with a reason
// of its own (it cannot import this package); it is this code, so that FailureCodes lists
// it and the portal has its words.
func TestRenewalInterruptedIsTheServers(t *testing.T) {
	if want := ReasonPrefix + string(CodeRenewalInterrupted); enroll.ReasonRenewalInterrupted != want {
		t.Errorf("the server fails a renewal cut short with %q, want %q", enroll.ReasonRenewalInterrupted, want)
	}
	if !slices.Contains(FailureCodes(), string(CodeRenewalInterrupted)) {
		t.Errorf("FailureCodes lacks %s", CodeRenewalInterrupted)
	}
}

// TestAllCodesListed: allCodes, from which the words tests and FailureCodes start, names
// every Code this package declares, so that no code escapes them.
func TestAllCodesListed(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for i, n := range vs.Names {
					declared++
					switch v := vs.Values[i].(type) {
					case *ast.BasicLit: // X Code = "X"
						val, err := strconv.Unquote(v.Value)
						if err != nil || !slices.Contains(allCodes, Code(val)) {
							t.Errorf("%s: allCodes does not list %s", e.Name(), n.Name)
						}
					case *ast.CallExpr: // X Code = Code(tpmverify.Y): every reason is listed with FailureCodes
						if sel, ok := v.Args[0].(*ast.SelectorExpr); !ok || fmt.Sprint(sel.X) != "tpmverify" {
							t.Errorf("%s: %s is neither a string nor a tpmverify.Reason", e.Name(), n.Name)
						}
					default:
						t.Errorf("%s: %s is neither a string nor a tpmverify.Reason", e.Name(), n.Name)
					}
				}
			}
		}
	}
	if declared != len(allCodes) {
		t.Errorf("%d codes declared, allCodes lists %d", declared, len(allCodes))
	}
}
