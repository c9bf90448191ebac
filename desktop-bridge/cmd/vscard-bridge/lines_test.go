package main

import (
	"bufio"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/agent"
	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// wordy finds a word in a string literal: a line for a person, which belongs in cliWords.
var wordy = regexp.MustCompile(`\pL{3,}`)

// personLines are the functions whose string arguments a person reads.
var personLines = map[string]bool{
	"fmt.Print": true, "fmt.Printf": true, "fmt.Println": true,
	"fmt.Fprint": true, "fmt.Fprintf": true, "fmt.Fprintln": true,
	"fmt.Errorf": true, "errors.New": true, "readLine": true,
}

// notForPeople are literals in those calls that are no person's line, with why.
var notForPeople = map[string]string{
	`"print JSON: "`: "a fault of --json output, read by a program",
}

// TestCommandLinesInWords: the lines of pin change, pin unblock, cards and delete come from
// cliWords (say, refuse), whose every key TestCLIWordsInEveryLanguage holds to have German
// words: a line written as an English literal fails here.
func TestCommandLinesInWords(t *testing.T) {
	fset := token.NewFileSet()
	for _, file := range []string{"pin.go", "unblock.go", "cards.go"} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			name := funcName(call)
			if name == "say" || name == "refuse" {
				// The key (the literal after the language) must have words.
				for _, arg := range call.Args {
					if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if k, _ := strconv.Unquote(lit.Value); cliWords["en"][k] == "" {
							t.Errorf("%s: %s(%s): no such key in cliWords", fset.Position(lit.Pos()), name, lit.Value)
						}
					}
				}
				return false
			}
			if !personLines[name] {
				return true
			}
			for _, arg := range call.Args {
				ast.Inspect(arg, func(n ast.Node) bool {
					if c, ok := n.(*ast.CallExpr); ok && (funcName(c) == "say" || funcName(c) == "refuse") {
						return false // checked as its own call
					}
					lit, ok := n.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return true
					}
					s, _ := strconv.Unquote(lit.Value)
					if _, ok := notForPeople[lit.Value]; !ok && wordy.MatchString(s) {
						t.Errorf("%s: %s writes %s: put the line into cliWords", fset.Position(lit.Pos()), name, lit.Value)
					}
					return true
				})
			}
			return true
		})
	}
}

func funcName(call *ast.CallExpr) string {
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		return fn.Name
	case *ast.SelectorExpr:
		if x, ok := fn.X.(*ast.Ident); ok {
			return x.Name + "." + fn.Sel.Name
		}
	}
	return ""
}

// TestPinUnblockReadGerman: the prompts of pin unblock are German with LANG=de_DE.UTF-8.
func TestPinUnblockReadGerman(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "de_DE.UTF-8")
	c := &pinUnblockCmd{Offline: true, Stdin: true}
	out := stderrOf(t, func() {
		_, _, _ = c.read(bufio.NewScanner(strings.NewReader("")), io.Discard, policyOf(agent.CardInfo{}))
	})
	if out != "Antwort: " {
		t.Errorf("prompt = %q, want the German one", out)
	}
}

// TestCardsGerman: `cards` without an agent reads the data directory, and says in German
// that it holds no card; a serial that is none is refused in German, not as "parse serial".
func TestCardsGerman(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "de_DE.UTF-8")
	g := &globals{DataDir: t.TempDir(), Socket: filepath.Join(t.TempDir(), "none.sock")}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	runErr := (&cardsCmd{}).Run(context.Background(), g)
	os.Stdout = old
	w.Close()
	out, _ := io.ReadAll(r)
	if runErr != nil || string(out) != "Keine virtuellen Karten.\n" {
		t.Errorf("cards = %q, %v", out, runErr)
	}
	err = (&deleteCmd{Serial: "x1"}).Run(context.Background(), g)
	if want := "\"x1\" ist keine Seriennummer einer Karte: vscard-bridge cards zeigt sie."; err == nil || handoff.DescribeIn("de", err) != want {
		t.Errorf("delete x1 = %v, want %q", err, want)
	}
}
