package pinpage

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/handoff"
)

// TestPINModes drives each mode of the PIN form through the page as a browser would:
// what it shows, which forms it refuses with which codes and words, and what it passes
// on. claim's policy: 6 to 8 digits, no letters or special characters.
func TestPINModes(t *testing.T) {
	type post struct {
		current, pin, confirm string
		codes                 []handoff.Code // the form is refused with these
	}
	tests := []struct {
		name    string
		mode    handoff.PINMode
		shows   []string
		hides   []string
		posts   []post
		current string // of the answer passed on
		pin     string
	}{
		{
			name:  "ok/choose",
			mode:  handoff.PINChoose,
			shows: []string{"Choose your PIN", "Create my card", `data-mode="choose"`, `name="pin"`, `name="confirm"`},
			hides: []string{`name="current"`},
			posts: []post{
				{pin: "135790", confirm: "135791", codes: []handoff.Code{handoff.ProblemMismatch}},
				{pin: "12ab56", confirm: "12ab56", codes: []handoff.Code{"letters"}},
				{pin: "135", confirm: "135", codes: []handoff.Code{"min_length"}},
				{pin: "135790", confirm: "135790"},
			},
			pin: "135790",
		},
		{
			name:  "ok/change",
			mode:  handoff.PINChange,
			shows: []string{"Change your PIN", "Current PIN", "Type the new PIN again", "Change my PIN", `data-mode="change"`, `name="current"`},
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
			name:  "ok/unblock",
			mode:  handoff.PINUnblock,
			shows: []string{"Choose a new PIN", "you do not need the old PIN", "Unblock my card", `data-mode="unblock"`, `name="pin"`, `name="confirm"`},
			// The PUK is the server's and the run's: the page neither shows nor asks for it.
			hides: []string{`name="current"`, "PUK", "puk"},
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
			// The card's PIN, once: no confirmation, no rules (the card decides).
			shows: []string{"Type your PIN", "Continue", `data-mode="verify"`, `name="pin"`, `autocomplete="current-password"`},
			hides: []string{`name="current"`, `name="confirm"`, "must have"},
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
			body := waitFor(t, p, `data-mode="`+string(tt.mode)+`"`)
			for _, want := range tt.shows {
				if !strings.Contains(body, want) {
					t.Errorf("form lacks %q", want)
				}
			}
			for _, unwanted := range tt.hides {
				if strings.Contains(body, unwanted) {
					t.Errorf("form shows %q", unwanted)
				}
			}
			for _, f := range tt.posts {
				form := url.Values{"q": {nonce(t, body)}, "pin": {f.pin}, "confirm": {f.confirm}}
				if tt.mode == handoff.PINChange {
					form.Set("current", f.current)
				}
				if w := do(p, http.MethodPost, base+"pin", form, nil); w.Code != http.StatusSeeOther {
					t.Fatalf("post: status %d", w.Code)
				}
				if len(f.codes) == 0 {
					continue
				}
				body = do(p, http.MethodGet, base, nil, nil).Body.String()
				for _, c := range f.codes {
					if !strings.Contains(body, `data-code="`+string(c)+`"`) {
						t.Errorf("form %+v: no problem %s in:\n%s", f, c, body)
					}
					// Words, not the code, are what a person reads.
					if words := handoff.Words(lang, c); strings.HasPrefix(string(c), "pin") || strings.HasPrefix(string(c), "current") {
						if !strings.Contains(body, words) {
							t.Errorf("problem %s shown without its words %q", c, words)
						}
					}
				}
				select {
				case r := <-answers:
					t.Fatalf("a refused form was passed on: %+v", r)
				default:
				}
			}
			r := <-answers
			if r.err != nil || r.a != (handoff.PINAnswer{Current: tt.current, New: tt.pin}) {
				t.Fatalf("answer %+v, %v; want current %q, new %q", r.a, r.err, tt.current, tt.pin)
			}
			if body := do(p, http.MethodGet, base, nil, nil).Body.String(); strings.Contains(body, tt.pin) {
				t.Error("the page shows the PIN")
			}
			// A failure is told in the mode's words, with the run's words for why.
			why := handoff.Describe(handoff.ErrSessionEnded)
			p.Notify(handoff.Event{Step: handoff.StepFailed, Error: why, Code: handoff.CodeSessionEnded})
			body = waitFor(t, p, modeWords[lang][tt.mode].Failed)
			if !strings.Contains(body, why) || strings.Contains(body, string(handoff.CodeSessionEnded)) {
				t.Errorf("failure view shows no words, or the code:\n%s", body)
			}
		})
	}
}

// TestWordsInEveryLanguage fails when a mode of the form lacks words in a language the
// Desktop App has.
func TestWordsInEveryLanguage(t *testing.T) {
	for _, l := range handoff.Languages {
		for _, m := range handoff.PINModes {
			w, ok := modeWords[l][m]
			// The verify mode asks for the card's PIN once: no rules, no confirmation.
			asksNew := m != handoff.PINVerify
			if !ok || w.Heading == "" || (w.Rules == "") == asksNew || w.New == "" || (w.Confirm == "") == asksNew ||
				w.Submit == "" || w.Working == "" || w.Failed == "" {
				t.Errorf("%s: mode %s lacks words: %+v", l, m, w)
			}
			if (w.Current != "") != (m == handoff.PINChange) {
				t.Errorf("%s: mode %s: label of the current PIN %q", l, m, w.Current)
			}
		}
	}
}
