package pinpage

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// TestPINModes drives each mode of the PIN form through the JSON API as the page does:
// which answers it refuses with which codes, and what it passes on. claim's policy: 6
// to 8 digits, no letters or special characters.
func TestPINModes(t *testing.T) {
	type post struct {
		current, pin, confirm string
		codes                 []handoff.Code // the answer is refused with these
	}
	tests := []struct {
		name    string
		mode    handoff.PINMode
		posts   []post
		current string // of the answer passed on
		pin     string
	}{
		{
			name: "ok/choose",
			mode: handoff.PINChoose,
			posts: []post{
				{pin: "135790", confirm: "135791", codes: []handoff.Code{handoff.ProblemMismatch}},
				{pin: "12ab56", confirm: "12ab56", codes: []handoff.Code{"letters"}},
				{pin: "135", confirm: "135", codes: []handoff.Code{"min_length"}},
				{pin: "135790", confirm: "135790"},
			},
			pin: "135790",
		},
		{
			name: "ok/change",
			mode: handoff.PINChange,
			posts: []post{
				{current: "", pin: "135790", confirm: "135790", codes: []handoff.Code{handoff.ProblemCurrentMissing}},
				{current: "135790", pin: "135790", confirm: "135790", codes: []handoff.Code{handoff.ProblemSameAsCurrent}},
				{current: "482915", pin: "135790", confirm: "135799", codes: []handoff.Code{handoff.ProblemMismatch}},
				{current: "482915", pin: "13579a", confirm: "13579a", codes: []handoff.Code{"letters"}},
				// The current PIN is not held to today's policy: it may date from an older one.
				{current: "1234", pin: "135790", confirm: "135790"},
			},
			current: "1234", pin: "135790",
		},
		{
			name: "ok/unblock",
			mode: handoff.PINUnblock,
			posts: []post{
				{pin: "482915", confirm: "482916", codes: []handoff.Code{handoff.ProblemMismatch}},
				{pin: "48291", confirm: "48291", codes: []handoff.Code{"min_length"}},
				{pin: "482915", confirm: "482915"},
			},
			pin: "482915",
		},
		{
			name: "ok/verify",
			mode: handoff.PINVerify,
			posts: []post{
				{pin: "", codes: []handoff.Code{handoff.ProblemCurrentMissing}},
				// An old PIN that breaks today's policy is the card's to judge.
				{pin: "12ab"},
			},
			pin: "12ab",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPage(t)
			base := "/" + p.token + "/"
			type result struct {
				a   handoff.PINAnswer
				err error
			}
			answers := make(chan result, 1)
			go func() {
				a, err := p.AskPIN(context.Background(), handoff.PINRequest{Mode: tt.mode, Claim: claim})
				answers <- result{a, err}
			}()
			s := waitFor(t, p, asking(tt.mode))
			for _, f := range tt.posts {
				a := answer{Nonce: s.PIN.Nonce, Current: f.current, PIN: f.pin, Confirm: f.confirm}
				w := do(p, http.MethodPost, base+"pin", a, nil)
				if w.Code != http.StatusOK {
					t.Fatalf("post: status %d", w.Code)
				}
				if len(f.codes) == 0 {
					continue
				}
				s = decode(t, w)
				if got := codes(s); !slices.Equal(got, f.codes) {
					t.Errorf("answer %+v: problems %v, want %v", f, got, f.codes)
				}
				select {
				case r := <-answers:
					t.Fatalf("a refused answer was passed on: %+v", r)
				default:
				}
			}
			r := <-answers
			if r.err != nil || r.a != (handoff.PINAnswer{Current: tt.current, New: tt.pin}) {
				t.Fatalf("answer %+v, %v; want current %q, new %q", r.a, r.err, tt.current, tt.pin)
			}
			// A failure reaches the page as codes only.
			p.Notify(handoff.Event{Step: handoff.StepFailed, Error: handoff.Describe(handoff.ErrSessionEnded), Code: handoff.CodeSessionEnded})
			s = waitFor(t, p, func(s state) bool { return s.Final != nil })
			if s.Final.Code != handoff.CodeSessionEnded || s.Mode != tt.mode {
				t.Errorf("final %+v in mode %s", s.Final, s.Mode)
			}
		})
	}
}

// TestWrongCurrentPINTries: the tries left reach the page as a number with the code.
func TestWrongCurrentPINTries(t *testing.T) {
	p := testPage(t)
	go func() {
		_, _ = p.AskPIN(context.Background(), handoff.PINRequest{Mode: handoff.PINChange, Claim: claim,
			Problems: []handoff.Problem{handoff.WrongPINProblem(2)}})
	}()
	s := waitFor(t, p, asking(handoff.PINChange))
	if pr := s.PIN.Problems; len(pr) != 1 || pr[0].Code != handoff.ProblemCurrentWrong || pr[0].Tries != 2 {
		t.Errorf("problems %+v", pr)
	}
	p.Cancel()
}
