package handoff

import (
	"fmt"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/server/cardspec"
)

// pinPolicy turns the claim's policy into the server's own type, whose Check the bridge
// uses, so that bridge and server agree on every rule and its message.
func pinPolicy(p api.PINPolicy) cardspec.PINPolicy {
	return cardspec.PINPolicy{
		MinLength:     p.MinLength,
		MaxLength:     p.MaxLength,
		Upper:         cardspec.Rule(p.Upper),
		Lower:         cardspec.Rule(p.Lower),
		Digits:        cardspec.Rule(p.Digits),
		Special:       cardspec.Rule(p.Special),
		BlockList:     p.BlockList,
		MaxRepeated:   p.MaxRepeated,
		MaxSequential: p.MaxSequential,
		RetryCount:    p.RetryCount,
	}
}

// PolicyOf is the server's PIN policy p as the Desktop App keeps it with a card.
func PolicyOf(p api.PINPolicy) *cardspec.PINPolicy {
	c := pinPolicy(p)
	return &c
}

// CheckPIN returns the problems of a PIN answer in mode, or nil: for every mode the new
// PIN against the order's policy, one problem per broken rule (in PINVerify mode only
// that there is one: it is the card's current PIN); in PINChange mode also
// that the current PIN is there and differs from the new one. A prompter checks that the
// new PIN was typed the same twice (ProblemMismatch); the answer holds it once.
func CheckPIN(mode PINMode, p cardspec.PINPolicy, a PINAnswer) []Problem {
	var out []Problem
	if mode == PINVerify {
		// The card's PIN as it is: the card, not today's policy, decides.
		if a.New == "" {
			out = append(out, NewProblem(ProblemCurrentMissing))
		}
		return out
	}
	if mode == PINChange {
		switch {
		case a.Current == "":
			out = append(out, NewProblem(ProblemCurrentMissing))
		case a.Current == a.New:
			out = append(out, NewProblem(ProblemSameAsCurrent))
		}
	}
	for _, v := range p.Check(a.New) {
		// The policy's messages are the server's own, so bridge and server word a
		// rule alike; the rule is the code.
		out = append(out, Problem{Code: Code(v.Rule), Message: v.Message})
	}
	return out
}

// NewProblem returns the problem with code c, in the default language's words.
func NewProblem(c Code) Problem {
	return Problem{Code: c, Message: Words(Languages[0], c)}
}

// PolicyRules describes the policy in words, one rule per line, for a PIN prompt.
func PolicyRules(p cardspec.PINPolicy) []string {
	var r []string
	if p.MinLength == p.MaxLength {
		r = append(r, fmt.Sprintf("%d characters.", p.MinLength))
	} else {
		r = append(r, fmt.Sprintf("%d to %d characters.", p.MinLength, p.MaxLength))
	}
	for _, c := range []struct {
		rule cardspec.Rule
		name string
	}{{p.Digits, "Digits"}, {p.Upper, "Upper-case letters"}, {p.Lower, "Lower-case letters"}, {p.Special, "Special characters"}} {
		switch c.rule {
		case cardspec.Required:
			r = append(r, c.name+": at least one.")
		case cardspec.Disallowed:
			r = append(r, c.name+": not allowed.")
		}
	}
	if p.MaxRepeated > 0 {
		r = append(r, fmt.Sprintf("No character more than %d times in a row.", p.MaxRepeated))
	}
	if p.MaxSequential > 0 {
		r = append(r, fmt.Sprintf("No more than %d sequential characters (like 1234 or dcba).", p.MaxSequential))
	}
	if len(p.BlockList) > 0 {
		r = append(r, "Not a common PIN such as "+p.BlockList[0]+".")
	}
	if p.RetryCount > 0 {
		r = append(r, fmt.Sprintf("The card locks after %d wrong PINs in a row.", p.RetryCount))
	}
	return r
}
