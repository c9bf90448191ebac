package handoff

import (
	"context"
	"errors"
	"github.com/vscard/vscard/server/tpmverify"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/server/cardspec"
)

// testHandler is a process's handler for tests only: it proves that Run dispatches on
// the process and gives the handler what a run needs, without touching a card.
type testHandler struct {
	run func(ctx context.Context, job *Job) (*Result, error)

	mu    sync.Mutex
	ran   int
	undos int
}

func (h *testHandler) Run(ctx context.Context, job *Job) (*Result, error) {
	h.mu.Lock()
	h.ran++
	h.mu.Unlock()
	return h.run(ctx, job)
}

func (h *testHandler) Undo(*Job) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.undos++
	return nil
}

func (h *testHandler) counts() (ran, undos int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ran, h.undos
}

// noCards fails the test if a handler under test touches the card host.
type noCards struct{ t *testing.T }

func (c noCards) CreateCard(context.Context, uint32) (string, error) {
	c.t.Error("CreateCard called")
	return "", errors.New("no cards here")
}
func (c noCards) ResetCard(uint32) error  { c.t.Error("ResetCard called"); return nil }
func (c noCards) DeleteCard(uint32) error { c.t.Error("DeleteCard called"); return nil }
func (c noCards) MoveKey(uint32, byte, byte) error {
	c.t.Error("MoveKey called")
	return nil
}
func (c noCards) CardReader(uint32) (string, error) {
	c.t.Error("CardReader called")
	return "", errors.New("no cards here")
}

// TestDispatch runs links against a real server with a registry that holds a test-only
// handler: the process named by the link (and confirmed by the claim) picks the
// handler, an unknown process is refused before the claim, and a link whose process
// the server contradicts is refused after it.
func TestDispatch(t *testing.T) {
	srv := portaltest.Start(t)
	alice := srv.SignIn(t)
	trusted := func() *memTrust {
		ts := &memTrust{}
		ts.Trust(srv.URL)
		return ts
	}
	run := func(t *testing.T, link string, reg Registry, p *scriptedPrompter, trust TrustStore, tasks *sync.WaitGroup) (*Result, []Event, error) {
		t.Helper()
		h, err := ParseLink(link)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var events []Event
		// t.Context, not a context cancelled on return: the follower under Tasks lives on.
		res, err := Run(t.Context(), Config{
			Trust: trust, Prompter: p, Cards: noCards{t}, Logger: testLogger(t), Handlers: reg, Tasks: tasks,
			Notify: func(ev Event) { mu.Lock(); events = append(events, ev); mu.Unlock() },
		}, h)
		mu.Lock()
		defer mu.Unlock()
		return res, slices.Clone(events), err
	}

	t.Run("ok/the claim's process picks the handler, which gets what a run needs", func(t *testing.T) {
		order, link := alice.StartOrder()
		var got struct {
			job    *Job
			answer PINAnswer
		}
		h := &testHandler{run: func(ctx context.Context, job *Job) (*Result, error) {
			got.job = job
			a, err := job.AskPIN(ctx, PINChange)
			if err != nil {
				return nil, err
			}
			got.answer = a
			job.Notify(Event{Step: StepCardSecured})
			return &Result{Server: job.Link.Server, Order: job.Link.Order, Serial: job.Claim.Card.Serial}, nil
		}}
		// The test handler stands in for get-virtual-smart-card, the process StartOrder
		// starts. A link without process= is an older server's and means it.
		reg := Registry{GetVirtualSmartCard: func() Handler { return h }}
		p := newPrompter(false)
		p.answers = []PINAnswer{{New: "135790"}, {Current: "135790", New: "135790"}, {Current: "111111", New: "482915"}}
		var tasks sync.WaitGroup
		res, events, err := run(t, link, reg, p, trusted(), &tasks)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if ran, _ := h.counts(); ran != 1 || res == nil || res.Order != order.ID {
			t.Fatalf("handler ran %d times, result %+v", ran, res)
		}
		j := got.job
		if j.Link.Process != GetVirtualSmartCard || j.Claim.Process != GetVirtualSmartCard || j.Session == nil || j.Cards == nil || j.Prompter == nil {
			t.Errorf("job %+v lacks what a run needs", j)
		}
		// The change mode asks until the current PIN is there and differs from the new.
		if len(p.asked) != 3 || p.asked[0].Mode != PINChange || p.asked[0].Claim.VerificationCode != order.VerificationCode {
			t.Fatalf("asked %+v", p.asked)
		}
		if c := p.asked[1].Problems; len(c) != 1 || c[0].Code != ProblemCurrentMissing {
			t.Errorf("after no current PIN: problems %+v", c)
		}
		if c := p.asked[2].Problems; len(c) != 1 || c[0].Code != ProblemSameAsCurrent {
			t.Errorf("after an unchanged PIN: problems %+v", c)
		}
		if got.answer != (PINAnswer{Current: "111111", New: "482915"}) {
			t.Errorf("answer %+v", got.answer)
		}
		var steps []Step
		for _, ev := range events {
			steps = append(steps, ev.Step)
		}
		if want := []Step{StepClaimed, StepPINAccepted, StepCardSecured, StepDone}; !slices.Equal(steps, want) {
			t.Errorf("steps %v, want %v", steps, want)
		}
		// The order ends in the portal before the person finished it: the handler
		// undoes its work, under Tasks.
		alice.Cancel(order.ID)
		tasks.Wait()
		if _, undos := h.counts(); undos != 1 {
			t.Errorf("undone %d times after the order ended, want 1", undos)
		}
	})

	t.Run("ok/a failing handler undoes its work and the order fails", func(t *testing.T) {
		order, link := alice.StartOrder()
		h := &testHandler{run: func(context.Context, *Job) (*Result, error) {
			return nil, errors.New("the card said no")
		}}
		_, events, err := run(t, link, Registry{GetVirtualSmartCard: func() Handler { return h }}, newPrompter(false), trusted(), nil)
		if err == nil || !strings.Contains(err.Error(), "the card said no") {
			t.Fatalf("Run: %v", err)
		}
		if _, undos := h.counts(); undos != 1 {
			t.Errorf("undone %d times, want 1", undos)
		}
		if last := events[len(events)-1]; last.Step != StepFailed {
			t.Errorf("last event %+v", last)
		}
		if o := alice.Order(order.ID); o.State != "FAILED" || !strings.Contains(o.FailureReason, "the card said no") {
			t.Errorf("order %+v, want FAILED with the reason", o)
		}
	})

	t.Run("error/unknown process refused in words before trust and claim", func(t *testing.T) {
		order, link := alice.StartOrder()
		p := newPrompter(true, goodPIN)
		ts := &memTrust{}
		_, events, err := run(t, withProcess(t, link, "renew-everything"), Processes(), p, ts, nil)
		if !errors.Is(err, &Error{Code: CodeUnknownProcess}) || CodeOf(err) != CodeUnknownProcess {
			t.Fatalf("Run: %v, want %s", err, CodeUnknownProcess)
		}
		if len(events) != 1 || events[0].Step != StepFailed || events[0].Code != CodeUnknownProcess || events[0].Error != Words("en", CodeUnknownProcess) {
			t.Errorf("events %+v, want one failure in words", events)
		}
		if p.trustAsks != 0 || len(p.asked) != 0 {
			t.Error("the person was asked about a process the Desktop App cannot do")
		}
		if got := alice.Order(order.ID).State; got != "AWAITING_DESKTOP_APP" {
			t.Errorf("order %s, want AWAITING_DESKTOP_APP: the claim must not be attempted", got)
		}
		alice.Cancel(order.ID)
	})

	t.Run("error/the server's process contradicts the link's", func(t *testing.T) {
		order, link := alice.StartOrder()
		h := &testHandler{run: func(context.Context, *Job) (*Result, error) { return &Result{}, nil }}
		reg := Registry{GetVirtualSmartCard: Processes()[GetVirtualSmartCard], "test-change-pin": func() Handler { return h }}
		_, events, err := run(t, withProcess(t, link, "test-change-pin"), reg, newPrompter(false), trusted(), nil)
		if CodeOf(err) != CodeProcessMismatch {
			t.Fatalf("Run: %v, want %s", err, CodeProcessMismatch)
		}
		if ran, _ := h.counts(); ran != 0 {
			t.Error("the link's handler ran although the server's order runs another process")
		}
		if last := events[len(events)-1]; last.Step != StepFailed || last.Code != CodeProcessMismatch || last.Error != Words("en", CodeProcessMismatch) {
			t.Errorf("last event %+v", last)
		}
		o := alice.Order(order.ID)
		if o.State != "FAILED" || o.FailureReason != ReasonPrefix+string(CodeProcessMismatch) {
			t.Errorf("order %+v, want FAILED with the code only", o)
		}
	})
}

func TestWordsInEveryLanguage(t *testing.T) {
	for _, l := range Languages {
		for _, c := range allCodes {
			if words[l][c] == "" {
				t.Errorf("%s: no words for %s", l, c)
			}
		}
	}
}

func TestCheckPIN(t *testing.T) {
	policy := pinPolicyForTest()
	tests := []struct {
		name  string
		mode  PINMode
		a     PINAnswer
		codes []Code
	}{
		{"ok/choose", PINChoose, PINAnswer{New: "482915"}, nil},
		{"error/choose against the policy", PINChoose, PINAnswer{New: "12a"}, []Code{"min_length", "letters"}},
		{"ok/change", PINChange, PINAnswer{Current: "1", New: "482915"}, nil},
		{"error/change without current", PINChange, PINAnswer{New: "482915"}, []Code{ProblemCurrentMissing}},
		{"error/change to the same", PINChange, PINAnswer{Current: "482915", New: "482915"}, []Code{ProblemSameAsCurrent}},
		{"error/change against the policy", PINChange, PINAnswer{Current: "1", New: "12"}, []Code{"min_length"}},
		{"ok/unblock", PINUnblock, PINAnswer{New: "482915"}, nil},
		{"error/unblock against the policy", PINUnblock, PINAnswer{New: "4829150000"}, []Code{"max_length"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Code
			for _, p := range CheckPIN(tt.mode, policy, tt.a) {
				got = append(got, p.Code)
				if p.Message == "" || p.Message == string(p.Code) {
					t.Errorf("problem %s has no words", p.Code)
				}
			}
			if !slices.Equal(got, tt.codes) {
				t.Errorf("codes %v, want %v", got, tt.codes)
			}
		})
	}
}

// pinPolicyForTest: 6 to 8 digits, no letters or special characters.
func pinPolicyForTest() cardspec.PINPolicy {
	return cardspec.PINPolicy{MinLength: 6, MaxLength: 8, Digits: cardspec.Required,
		Upper: cardspec.Disallowed, Lower: cardspec.Disallowed, Special: cardspec.Disallowed}
}

// withProcess is link naming process instead of the one the server named: a link made
// for another process, or forged.
func withProcess(t *testing.T, link, process string) string {
	t.Helper()
	h, err := ParseLink(link)
	if err != nil {
		t.Fatal(err)
	}
	h.Process = process
	return h.URL()
}

// TestTPMReasonsHaveWords: every reason the server refuses TPM evidence with has words.
func TestTPMReasonsHaveWords(t *testing.T) {
	for _, r := range tpmverify.Reasons() {
		if words[Languages[0]][Code(r)] == "" {
			t.Errorf("no words for the server's %s", r)
		}
	}
}
