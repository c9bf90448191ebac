package handoff

import (
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

// PolicyRules describes the policy in the default language; see PolicyRulesIn.
func PolicyRules(p cardspec.PINPolicy) []string { return PolicyRulesIn(Languages[0], p) }
