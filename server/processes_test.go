package server_test

import (
	"context"
	"testing"

	"github.com/vscard/vscard/server/servertest"
)

// TestProcessesSpeakInCodes: the portal gets message keys and a reason code, never our
// words; a card the caller may not see and an unknown process are NOT_FOUND.
func TestProcessesSpeakInCodes(t *testing.T) {
	env := servertest.Start(t)
	bob := env.SignIn(t, servertest.Bob)
	var out struct {
		Processes []struct {
			Name, DisplayName, Description string
			Available                      bool
			UnavailableReason              *string
		}
	}
	bob.MustDo(t, `{ processes { name displayName description available unavailableReason } }`, nil, &out)
	if len(out.Processes) != 1 {
		t.Fatalf("processes = %+v", out.Processes)
	}
	p := out.Processes[0]
	if p.Name != "get-virtual-smart-card" || p.DisplayName != "process.get-virtual-smart-card.name" ||
		p.Description != "process.get-virtual-smart-card.description" {
		t.Errorf("process = %+v, want its name and message keys", p)
	}
	if p.Available || p.UnavailableReason == nil || *p.UnavailableReason != "USER_NOT_ACTIVE" {
		t.Errorf("offer to an inactive person = %+v, want USER_NOT_ACTIVE", p)
	}

	alice := env.SignIn(t, servertest.Alice)
	err := alice.Do(context.Background(), `{ processes(card: "crd_nobodys") { name } }`, nil, nil)
	if codeOf(err) != "NOT_FOUND" {
		t.Errorf("processes of an unknown card: %v, want NOT_FOUND", err)
	}
	err = alice.Do(context.Background(), `mutation { startProcess(name: "no-such-process") { id } }`, nil, nil)
	if codeOf(err) != "NOT_FOUND" {
		t.Errorf("start of an unknown process: %v, want NOT_FOUND", err)
	}
	err = alice.Do(context.Background(), `mutation { startProcess(card: "crd_nobodys") { id } }`, nil, nil)
	if codeOf(err) != "INVALID_INPUT" {
		t.Errorf("get-virtual-smart-card on a card: %v, want INVALID_INPUT", err)
	}
}
