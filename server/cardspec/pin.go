package cardspec

import (
	"fmt"
	"slices"
)

// The desktop bridge checks a PIN with Check against the policy stored on the order before it
// sets the PIN on the card, and explains a refusal rule by rule.

// Violation is one PIN policy rule a PIN breaks.
type Violation struct {
	// Rule names the broken rule: "ascii", "min_length", "max_length", "upper_case",
	// "lower_case", "letters", "digits", "special", "block_list", "repeated" or "sequential".
	Rule string `json:"rule"`
	// Message tells the person choosing the PIN what to change.
	Message string `json:"message"`
}

// Check returns the rules pin breaks, in a stable order, or nil if the PIN is acceptable.
// A PIN consists of printable ASCII characters (space to tilde); anything else is a violation.
// Check assumes p is valid (as Evaluate returns it); an empty Rule counts as Allowed.
func (p PINPolicy) Check(pin string) []Violation {
	var v []Violation
	add := func(rule, format string, args ...any) {
		v = append(v, Violation{Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < ' ' || pin[i] > '~' {
			add("ascii", "The PIN may only contain letters A-Z and a-z, digits and the special characters on a US keyboard.")
			break
		}
	}
	if len(pin) < p.MinLength {
		add("min_length", "The PIN must be at least %d characters long.", p.MinLength)
	}
	if p.MaxLength > 0 && len(pin) > p.MaxLength {
		add("max_length", "The PIN must be at most %d characters long.", p.MaxLength)
	}

	var upper, lower, digits, special bool
	for i := 0; i < len(pin); i++ {
		switch c := pin[i]; {
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z':
			lower = true
		case '0' <= c && c <= '9':
			digits = true
		case ' ' <= c && c <= '~':
			special = true
		}
	}
	if p.Upper == Disallowed && p.Lower == Disallowed && (upper || lower) {
		// One message reads better than two when no letters are allowed at all.
		add("letters", "The PIN must not contain letters.")
	} else {
		checkClass(&v, "upper_case", p.Upper, upper, "an upper-case letter", "upper-case letters")
		checkClass(&v, "lower_case", p.Lower, lower, "a lower-case letter", "lower-case letters")
	}
	checkClass(&v, "digits", p.Digits, digits, "a digit", "digits")
	checkClass(&v, "special", p.Special, special, "a special character", "special characters")

	if slices.Contains(p.BlockList, pin) {
		add("block_list", "This PIN is too common.")
	}
	if p.MaxRepeated > 0 && longestRepeat(pin) > p.MaxRepeated {
		add("repeated", "The PIN must not repeat a character more than %d times in a row.", p.MaxRepeated)
	}
	if p.MaxSequential > 0 {
		if n, digit := longestSequence(pin); n > p.MaxSequential {
			kind := "letters"
			if digit {
				kind = "digits"
			}
			add("sequential", "The PIN must not contain more than %d sequential %s (like 1234 or dcba).", p.MaxSequential, kind)
		}
	}
	return v
}

func checkClass(v *[]Violation, rule string, r Rule, present bool, one, many string) {
	switch {
	case r == Required && !present:
		*v = append(*v, Violation{Rule: rule, Message: "The PIN must contain " + one + "."})
	case r == Disallowed && present:
		*v = append(*v, Violation{Rule: rule, Message: "The PIN must not contain " + many + "."})
	}
}

// longestRepeat returns the length of the longest run of one character.
func longestRepeat(s string) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i] == s[i-1] {
			run++
		} else {
			run = 1
		}
		longest = max(longest, run)
	}
	return longest
}

// longestSequence returns the length of the longest ascending or descending run of digits or
// of letters of one case ("1234", "4321", "abcd"), and whether that run is made of digits.
func longestSequence(s string) (n int, digit bool) {
	for _, dir := range []int{1, -1} {
		run := 0
		for i := 0; i < len(s); i++ {
			if i > 0 && sameClass(s[i-1], s[i]) && int(s[i])-int(s[i-1]) == dir {
				run++
			} else {
				run = 1
			}
			if run > n {
				n, digit = run, isDigit(s[i])
			}
		}
	}
	if n < 2 {
		return 0, false // a single character is not a sequence
	}
	return n, digit
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func sameClass(a, b byte) bool {
	class := func(c byte) int {
		switch {
		case isDigit(c):
			return 1
		case 'a' <= c && c <= 'z':
			return 2
		case 'A' <= c && c <= 'Z':
			return 3
		}
		return 0
	}
	return class(a) != 0 && class(a) == class(b)
}
