package handoff

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/server/cardspec"
)

func TestLangFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ok/nothing set is English", nil, "en"},
		{"ok/LANG German", map[string]string{"LANG": "de_DE.UTF-8"}, "de"},
		{"ok/LC_MESSAGES before LANG", map[string]string{"LANG": "en_GB.UTF-8", "LC_MESSAGES": "de_AT"}, "de"},
		{"ok/LC_ALL before everything", map[string]string{"LANG": "de_DE.UTF-8", "LC_ALL": "C"}, "en"},
		{"ok/a language without words is English", map[string]string{"LANG": "sv_SE.UTF-8"}, "en"},
		{"ok/just the language", map[string]string{"LANG": "de"}, "de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LangFromEnv(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("LangFromEnv = %q, want %q", got, tt.want)
			}
		})
	}
}

// stateName finds an order or card state, or any other code, in words meant for a person.
var stateName = regexp.MustCompile(`\b[A-Z]{3,}(_[A-Z]+)*\b`)

// personWords fails t when w is empty, unformatted or names a code.
func personWords(t *testing.T, what, w string) {
	t.Helper()
	if strings.TrimSpace(w) == "" {
		t.Errorf("%s: no words", what)
	}
	if strings.Contains(w, "%!") || strings.Contains(w, "%d") || strings.Contains(w, "%s") {
		t.Errorf("%s: unformatted words %q", what, w)
	}
	if m := stateName.FindString(w); m != "" && m != "PIN" && m != "PINs" && m != "PUK" && m != "US" && m != "TPM" { // TPM: what a person turns on in the firmware
		t.Errorf("%s: words name %q: %q", what, m, w)
	}
}

// TestServerWordsInEveryLanguage: a new server error code (the schema's ErrorCode, which
// genqlient lists in api.AllErrorCode) fails here until it has words in every language.
func TestServerWordsInEveryLanguage(t *testing.T) {
	for _, l := range Languages {
		for _, c := range api.AllErrorCode {
			w, ok := serverWords[l][c]
			if !ok {
				t.Errorf("%s: no words for the server's %s", l, c)
				continue
			}
			personWords(t, l+"/"+string(c), w)
			if l != Languages[0] && w == serverWords[Languages[0]][c] {
				t.Errorf("%s: %s has the default language's words", l, c)
			}
		}
	}
}

func TestWordsAreForPeople(t *testing.T) {
	for _, l := range Languages {
		for _, c := range allCodes {
			w := Words(l, c)
			if c == ProblemCurrentWrong {
				w = fmt.Sprintf(w, 2)
			}
			personWords(t, l+"/"+string(c), strings.ReplaceAll(w, "--trust", ""))
			if l != Languages[0] && w == Words(Languages[0], c) {
				t.Errorf("%s: %s has the default language's words", l, c)
			}
		}
	}
}

// TestDescribeServerError: the server's message names states ("An order that is CANCELLED
// cannot move to DESKTOP_APP_CONNECTED."); a person reads the words of its code instead,
// once, in their language.
func TestDescribeServerError(t *testing.T) {
	err := fmt.Errorf("claim order: %w", gqlerror.List{{
		Message:    "An order that is CANCELLED cannot move to DESKTOP_APP_CONNECTED.",
		Extensions: map[string]any{"code": "ILLEGAL_STATE"},
	}})
	for _, l := range Languages {
		got := DescribeIn(l, err)
		if got != serverWords[l][api.ErrorCodeIllegalState] {
			t.Errorf("%s: DescribeIn = %q", l, got)
		}
		personWords(t, l, got)
	}
	if got := DescribeIn("de", fmt.Errorf("ask for PIN: %w", ErrCancelled)); got != Words("de", CodeCancelled) {
		t.Errorf("DescribeIn(ask for PIN: cancelled) = %q", got)
	}
	if got := EventWords("de", Event{Step: StepCancelled, Error: "x", Code: CodeOrderEnded}); got != Words("de", CodeOrderEnded) {
		t.Errorf("EventWords(ORDER_ENDED) = %q", got)
	}
	if got := EventWords("de", Event{Step: StepFailed, Error: "x", ServerCode: "TOKEN_EXPIRED"}); got != serverWords["de"][api.ErrorCodeTokenExpired] {
		t.Errorf("EventWords(TOKEN_EXPIRED) = %q", got)
	}
	if got := ServerWords("de", "SOME_NEWER_CODE"); got != serverWords["en"][api.ErrorCodeInternal] {
		t.Errorf("ServerWords(unknown) = %q", got)
	}
}

func digitsPolicy() cardspec.PINPolicy {
	return cardspec.PINPolicy{
		MinLength: 6, MaxLength: 8, Upper: cardspec.Disallowed, Lower: cardspec.Disallowed,
		Digits: cardspec.Required, Special: cardspec.Disallowed, BlockList: []string{"123456"},
		MaxRepeated: 3, MaxSequential: 4, RetryCount: 3,
	}
}

// TestPolicyRulesIn checks each shape of policy: one line per kind of rule, "digits" for a
// digits-only policy, an exact length without "8 to 8", examples the policy allows, and
// the retry count apart from the rules.
func TestPolicyRulesIn(t *testing.T) {
	letters := digitsPolicy()
	letters.Upper, letters.Lower, letters.Special = cardspec.Allowed, cardspec.Required, cardspec.Allowed
	letters.BlockList, letters.MaxRepeated = nil, 0
	exact := digitsPolicy()
	exact.MinLength, exact.MaxSequential, exact.MaxRepeated, exact.BlockList = 8, 0, 0, nil
	noUpper := digitsPolicy()
	noUpper.Lower, noUpper.Digits, noUpper.Special = cardspec.Allowed, cardspec.Disallowed, cardspec.Allowed
	noUpper.MaxSequential, noUpper.MaxRepeated, noUpper.BlockList = 0, 0, nil
	tests := []struct {
		name string
		lang string
		p    cardspec.PINPolicy
		want []string
	}{
		{"ok/digits only", "en", digitsPolicy(), []string{
			"6 to 8 digits", "No digits more than 3 times in a row", "No more than 4 sequential digits (like 1234)", "Not a common PIN such as 123456"}},
		{"ok/digits only, German", "de", digitsPolicy(), []string{
			"6 bis 8 Ziffern", "Keine Ziffern öfter als 3-mal hintereinander", "Nicht mehr als 4 aufeinanderfolgende Ziffern (wie 1234)", "Keine häufige PIN wie 123456"}},
		{"ok/exact length", "en", exact, []string{"8 digits"}},
		{"ok/exact length, German", "de", exact, []string{"8 Ziffern"}},
		{"ok/letters", "en", letters, []string{"6 to 8 characters", "At least one digit", "At least one lower-case letter", "No more than 4 sequential characters (like 1234, abcd)"}},
		{"ok/no upper case, no digits", "de", noUpper, []string{"6 bis 8 Zeichen", "Keine Großbuchstaben", "Keine Ziffern"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PolicyRulesIn(tt.lang, tt.p); !slices.Equal(got, tt.want) {
				t.Errorf("PolicyRulesIn = %q, want %q", got, tt.want)
			}
		})
	}
	if got := RetryNote("de", digitsPolicy()); got != "Die Karte sperrt nach 3 falschen PINs hintereinander." {
		t.Errorf("RetryNote = %q", got)
	}
}

// violationRules are the rules cardspec.Violation names (its doc comment lists them).
var violationRules = []Code{"ascii", "min_length", "max_length", "upper_case", "lower_case", "letters", "digits", "special", "block_list", "repeated", "sequential"}

// TestProblemWords: every refusal of a PIN has words of its own in every language, worded
// like the rule ("sequential digits" in both).
func TestProblemWords(t *testing.T) {
	p := digitsPolicy()
	for _, l := range Languages {
		for _, c := range append(slices.Clone(violationRules), ProblemMismatch, ProblemCurrentMissing, ProblemSameAsCurrent, ProblemCurrentWrong, ProblemCurrentWrongLast) {
			w := ProblemWords(l, Problem{Code: c, Message: "English " + string(c), Tries: 2}, p)
			personWords(t, l+"/"+string(c), w)
			if strings.Contains(w, "English") {
				t.Errorf("%s/%s: the English message, not words: %q", l, c, w)
			}
		}
	}
	if got := ProblemWords("en", Problem{Code: "sequential"}, p); got != "The PIN has more than 4 sequential digits." {
		t.Errorf("sequential = %q", got)
	}
	// Every rule the policy's Check can break has words here (a new rule fails).
	for _, v := range (cardspec.PINPolicy{MinLength: 6, MaxLength: 8, Upper: cardspec.Required, Lower: cardspec.Disallowed,
		Digits: cardspec.Required, Special: cardspec.Required, BlockList: []string{"aaa"}, MaxRepeated: 1, MaxSequential: 1}).Check("aaa\x01") {
		if !slices.Contains(violationRules, Code(v.Rule)) {
			t.Errorf("rule %q has no words", v.Rule)
		}
	}
}

// notOnPINPage are codes the PIN page never ends a run with: the offline unblock is the
// command line's alone, and a renewal cut short is ended by the server on the report of
// the agent that started next, when no run is left to end.
var notOnPINPage = []Code{CodeUnblockResponseWrong, CodeUnblockNoChallenge, CodeUnblockUsedUp, ProblemResponseMistyped,
	CodeRenewalInterrupted}

// TestPINPageCatalogues: the PIN page (frontend/src/pinpage) words a run's end from
// final.code or final.serverCode and a refusal from its code, so every code this package
// or the server can send needs a key in both languages' pinpage.json.
func TestPINPageCatalogues(t *testing.T) {
	for _, l := range Languages {
		raw, err := os.ReadFile("../../frontend/src/i18n/locales/" + l + "/pinpage.json")
		if err != nil {
			t.Fatal(err)
		}
		var cat struct {
			End     map[string]string `json:"end"`
			Problem map[string]string `json:"problem"`
		}
		if err := json.Unmarshal(raw, &cat); err != nil {
			t.Fatal(err)
		}
		has := func(c string) bool { return cat.End[c] != "" || cat.Problem[c] != "" }
		for _, c := range append(slices.Clone(allCodes), violationRules...) {
			if !slices.Contains(notOnPINPage, c) && !has(string(c)) {
				t.Errorf("%s/pinpage.json: no words for the Desktop App's %s", l, c)
			}
		}
		for _, c := range api.AllErrorCode {
			if cat.End[string(c)] == "" {
				t.Errorf("%s/pinpage.json: no end.%s for the server's code", l, c)
			}
		}
	}
}
