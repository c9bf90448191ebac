package cardspec

import (
	"reflect"
	"strings"
	"testing"
)

// defaultPolicy is the PIN part of what server/options' default script yields, with a short
// block list: digits only, 6 to 8 of them, at most 3 repeated or sequential.
func defaultPolicy() PINPolicy {
	return PINPolicy{
		MinLength: 6, MaxLength: 8,
		Upper: Disallowed, Lower: Disallowed, Digits: Required, Special: Disallowed,
		BlockList:   []string{"123456", "000000", "121212", "654321"},
		MaxRepeated: 3, MaxSequential: 3, RetryCount: 3,
	}
}

func TestCheckPIN(t *testing.T) {
	lettersAllowed := defaultPolicy()
	lettersAllowed.Upper, lettersAllowed.Lower, lettersAllowed.Digits = Allowed, Required, Allowed
	upperRequired := defaultPolicy()
	upperRequired.Upper, upperRequired.Lower, upperRequired.Special = Required, Allowed, Required
	noDigits := defaultPolicy()
	noDigits.Digits, noDigits.Lower = Disallowed, Allowed
	noLimits := defaultPolicy()
	noLimits.MaxRepeated, noLimits.MaxSequential, noLimits.BlockList = 0, 0, nil

	tests := []struct {
		name   string
		policy PINPolicy
		pin    string
		rules  []string
		msg    string // message of the first violation
	}{
		{name: "ok/digits", policy: defaultPolicy(), pin: "385019"},
		{name: "ok/eight digits", policy: defaultPolicy(), pin: "38501942"},
		{name: "ok/letters and digits", policy: lettersAllowed, pin: "ab3x9k"},
		{name: "ok/all classes", policy: upperRequired, pin: "Ab3-x9k"},
		{name: "ok/no limits", policy: noLimits, pin: "111111"},
		{name: "error/too short", policy: defaultPolicy(), pin: "38501", rules: []string{"min_length"}, msg: "The PIN must be at least 6 characters long."},
		{name: "error/too long", policy: defaultPolicy(), pin: "385019427", rules: []string{"max_length"}, msg: "The PIN must be at most 8 characters long."},
		{name: "error/letters", policy: defaultPolicy(), pin: "3850a9", rules: []string{"letters"}, msg: "The PIN must not contain letters."},
		{name: "error/sequential letters", policy: lettersAllowed, pin: "abcdxy", rules: []string{"sequential"}, msg: "The PIN must not contain more than 3 sequential letters (like 1234 or dcba)."},
		{name: "error/digit missing", policy: PINPolicy{MinLength: 6, MaxLength: 8, Digits: Required}, pin: "qwerty", rules: []string{"digits"}, msg: "The PIN must contain a digit."},
		{name: "error/upper required", policy: upperRequired, pin: "ab3-x9k", rules: []string{"upper_case"}, msg: "The PIN must contain an upper-case letter."},
		{name: "error/lower disallowed", policy: PINPolicy{MinLength: 6, Lower: Disallowed}, pin: "ABCdEF", rules: []string{"lower_case"}, msg: "The PIN must not contain lower-case letters."},
		{name: "error/special required", policy: upperRequired, pin: "Ab3x9k", rules: []string{"special"}, msg: "The PIN must contain a special character."},
		{name: "error/special disallowed", policy: defaultPolicy(), pin: "3850-9", rules: []string{"special"}, msg: "The PIN must not contain special characters."},
		{name: "error/digits disallowed", policy: noDigits, pin: "abc1ef", rules: []string{"digits"}, msg: "The PIN must not contain digits."},
		{name: "error/common", policy: defaultPolicy(), pin: "121212", rules: []string{"block_list"}, msg: "This PIN is too common."},
		{name: "error/repeated", policy: defaultPolicy(), pin: "385555", rules: []string{"repeated"}, msg: "The PIN must not repeat a character more than 3 times in a row."},
		{name: "error/ascending", policy: defaultPolicy(), pin: "901234", rules: []string{"sequential"}, msg: "The PIN must not contain more than 3 sequential digits (like 1234 or dcba)."},
		{name: "error/descending", policy: defaultPolicy(), pin: "954321", rules: []string{"sequential"}},
		{name: "ok/three sequential", policy: defaultPolicy(), pin: "123950"},
		{name: "error/not ASCII", policy: defaultPolicy(), pin: "38501é", rules: []string{"ascii"}},
		{name: "error/control character", policy: defaultPolicy(), pin: "385019\n", rules: []string{"ascii"}},
		{name: "error/many", policy: defaultPolicy(), pin: "aaaa", rules: []string{"min_length", "letters", "digits", "repeated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.policy.Check(tt.pin)
			var rules []string
			for _, v := range got {
				rules = append(rules, v.Rule)
			}
			if !reflect.DeepEqual(rules, tt.rules) {
				t.Fatalf("Check(%q) rules = %v, want %v (%v)", tt.pin, rules, tt.rules, got)
			}
			if tt.msg != "" && got[0].Message != tt.msg {
				t.Errorf("message = %q, want %q", got[0].Message, tt.msg)
			}
		})
	}
}

// FuzzCheckPIN checks that Check never panics and that a PIN it accepts under the default
// policy really meets it.
func FuzzCheckPIN(f *testing.F) {
	for _, s := range []string{"385019", "123456", "1111", "abcdef", "38501é", "", "9876543210", "Ab3-x9k!"} {
		f.Add(s)
	}
	policy := defaultPolicy()
	f.Fuzz(func(t *testing.T, pin string) {
		violations := policy.Check(pin)
		for _, v := range violations {
			if v.Rule == "" || !strings.HasSuffix(v.Message, ".") {
				t.Fatalf("malformed violation %+v", v)
			}
		}
		if len(violations) > 0 {
			return
		}
		if len(pin) < 6 || len(pin) > 8 || strings.Trim(pin, "0123456789") != "" {
			t.Fatalf("Check accepted %q", pin)
		}
		for _, b := range policy.BlockList {
			if pin == b {
				t.Fatalf("Check accepted blocked %q", pin)
			}
		}
		if longestRepeat(pin) > 3 {
			t.Fatalf("Check accepted repeated %q", pin)
		}
	})
}
