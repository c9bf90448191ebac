package cardspec

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLeaf checks the reason this package exists: ent, which stores Options, and the desktop
// bridge, which enforces PINPolicy, must not link the Starlark interpreter, and this package
// must import nothing but the standard library so that it stays a leaf.
func TestLeaf(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	list := func(format string, pkgs ...string) []string {
		t.Helper()
		args := append([]string{"list", "-deps", "-f", format}, pkgs...)
		out, err := exec.Command(goTool, args...).Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		return strings.Fields(string(out))
	}

	for _, root := range []string{
		"github.com/vscard/vscard/ent/...",
		"github.com/vscard/vscard/desktop-bridge/cmd/vscard-bridge",
	} {
		for _, dep := range list("{{.ImportPath}}", root) {
			if strings.HasPrefix(dep, "go.starlark.net") || dep == "github.com/vscard/vscard/server/options" {
				t.Errorf("%s depends on %s", root, dep)
			}
		}
	}
	for _, dep := range list("{{if not .Standard}}{{.ImportPath}}{{end}}", "github.com/vscard/vscard/server/cardspec") {
		if dep != "github.com/vscard/vscard/server/cardspec" {
			t.Errorf("cardspec depends on %s; it must import only the standard library", dep)
		}
	}
}
