package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestListenOnce: while one agent holds the control socket, a second cannot take it,
// even when it would not see the first answering (both starting at once: the first has
// its lock and is about to bind). Without the lock the second would unlink the first's
// socket and bind its own, and two agents would run on one person's cards.
func TestListenOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "bridge.sock")
	first, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "another agent is running") {
		t.Fatalf("second Listen while the first answers: %v", err)
	}
	if err := os.Remove(path); err != nil { // the first not answering yet
		t.Fatal(err)
	}
	if ln, err := Listen(path); err == nil || !strings.Contains(err.Error(), "another agent is running") {
		if ln != nil {
			ln.Close()
		}
		t.Fatalf("second Listen while the first holds the lock: %v", err)
	}
	first.Close()
	again, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen after the first closed: %v", err)
	}
	again.Close()
}
