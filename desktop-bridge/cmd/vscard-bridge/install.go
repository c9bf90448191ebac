package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const desktopFileName = "vscard-bridge.desktop"

type installCmd struct {
	DryRun bool `name:"dry-run" help:"Print what would be done without doing it."`
}

// Run writes an XDG desktop entry that handles x-scheme-handler/vscard and makes it
// the default handler, so that browsers pass the portal's vscard:// links to
// `vscard-bridge open`.
func (c *installCmd) Run(g *globals) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find vscard-bridge: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("find vscard-bridge: %w", err)
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("find home directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	path := filepath.Join(dir, "applications", desktopFileName)
	entry := desktopEntry(exe, g.args())

	if c.DryRun {
		fmt.Printf("would write %s:\n%s\n", path, entry)
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create applications directory: %w", err)
		}
		if err := os.WriteFile(path, []byte(entry), 0o644); err != nil {
			return fmt.Errorf("write desktop entry: %w", err)
		}
		fmt.Printf("wrote %s\n", path)
	}

	xdgMime, err := exec.LookPath("xdg-mime")
	if err != nil {
		fmt.Println("xdg-mime not found: make", desktopFileName, "the handler of x-scheme-handler/vscard in your desktop's settings")
		return nil
	}
	args := []string{"default", desktopFileName, "x-scheme-handler/vscard"}
	if c.DryRun {
		fmt.Printf("would run %s %s\n", xdgMime, strings.Join(args, " "))
		return nil
	}
	if out, err := exec.Command(xdgMime, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("run xdg-mime: %w: %s", err, out)
	}
	fmt.Printf("ran %s %s\n", xdgMime, strings.Join(args, " "))
	if updater, err := exec.LookPath("update-desktop-database"); err == nil {
		_ = exec.Command(updater, filepath.Dir(path)).Run()
	}
	return nil
}

// desktopEntry returns the .desktop file. Exec arguments are quoted as the Desktop
// Entry Specification requires; %u is the link.
func desktopEntry(exe string, globalArgs []string) string {
	args := []string{quoteExec(exe)}
	for _, a := range globalArgs {
		args = append(args, quoteExec(a))
	}
	args = append(args, "open", "%u")
	return strings.Join([]string{
		"[Desktop Entry]",
		"Type=Application",
		"Name=vscard Desktop App",
		"Comment=Creates virtual smart cards for the vscard Self-Service portal",
		"Exec=" + strings.Join(args, " "),
		"Terminal=false",
		"NoDisplay=true",
		"MimeType=x-scheme-handler/vscard;",
		"Categories=Utility;Security;",
		"",
	}, "\n")
}

// quoteExec quotes an Exec argument when it needs it.
func quoteExec(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\"'\\><~|&;$*?#()`%") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", "$", `\\$`, "%", "%%")
	return `"` + r.Replace(s) + `"`
}
