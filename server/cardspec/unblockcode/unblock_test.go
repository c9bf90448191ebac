package unblockcode

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestChallengeRoundTrip(t *testing.T) {
	for range 200 {
		ch, err := NewChallenge("12345678", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		shown := Format(ch)
		if len(shown) != 14 || strings.Count(shown, "-") != 2 {
			t.Fatalf("Format(%q) = %q, want three groups of four", ch, shown)
		}
		got, err := Parse(strings.ToLower(shown))
		if err != nil || got != ch {
			t.Fatalf("Parse(%q) = %q, %v; want %q", shown, got, err, ch)
		}
		if !ForCard(ch, "12345678") {
			t.Fatalf("challenge %s is not for its own card", ch)
		}
	}
}

// TestOtherCard: the tag tells challenges of other cards apart, but for about one in 1024.
func TestOtherCard(t *testing.T) {
	passed := 0
	for i := range 2000 {
		ch, err := NewChallenge("12345678", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if ForCard(ch, "1234567"+string(rune('0'+i%10))+"9") {
			passed++
		}
	}
	if passed > 20 {
		t.Fatalf("%d of 2000 challenges pass for another card", passed)
	}
}

// TestTypingMistakes: every single wrong symbol and almost every swap of two neighbours is
// caught by the check symbol.
func TestTypingMistakes(t *testing.T) {
	ch, err := NewChallenge("99", bytes.NewReader(bytes.Repeat([]byte{0x5a}, 8)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range Length {
		for _, c := range alphabet {
			if byte(c) == ch[i] {
				continue
			}
			typo := ch[:i] + string(c) + ch[i+1:]
			if _, err := Parse(typo); !errors.Is(err, ErrCheck) {
				t.Errorf("Parse(%q) (one symbol off %q) = %v, want ErrCheck", typo, ch, err)
			}
		}
	}
	swaps, caught := 0, 0
	for range 200 {
		ch, _ := NewChallenge("99", rand.Reader)
		for i := 0; i+1 < Length; i++ {
			if ch[i] == ch[i+1] {
				continue
			}
			swaps++
			if _, err := Parse(ch[:i] + ch[i+1:i+2] + ch[i:i+1] + ch[i+2:]); err != nil {
				caught++
			}
		}
	}
	if caught*100 < swaps*95 {
		t.Fatalf("caught %d of %d swaps", caught, swaps)
	}
}

func TestParseForgiving(t *testing.T) {
	ch, _ := NewChallenge("1", rand.Reader)
	typed := strings.NewReplacer("0", "o", "1", "l").Replace(strings.ToLower(ch[:4])) + " " + ch[4:8] + "--" + ch[8:]
	if got, err := Parse(typed); err != nil || got != ch {
		t.Fatalf("Parse(%q) = %q, %v; want %q", typed, got, err, ch)
	}
	for _, bad := range []string{"", "ABC", ch + "0", ch[:11], ch[:11] + "U", ch[:11] + "*", "\xff" + ch[1:]} {
		if _, err := Parse(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) = %v, want ErrFormat", bad, err)
		}
	}
}

// TestResponseBinds: the response depends on the key, the card and the challenge, and is
// itself a code a person can type.
func TestResponseBinds(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 24)
	ch, _ := NewChallenge("100", rand.Reader)
	ch2, _ := NewChallenge("100", rand.Reader)
	r := Response(key, "100", ch)
	if got, err := Parse(Format(r)); err != nil || got != r {
		t.Fatalf("response %q does not read back: %q, %v", r, got, err)
	}
	other := bytes.Repeat([]byte{8}, 24)
	for name, r2 := range map[string]string{
		"other key": Response(other, "100", ch), "other card": Response(key, "101", ch),
		"other challenge": Response(key, "100", ch2),
	} {
		if Equal(r, r2) {
			t.Errorf("%s gives the same response %s", name, r)
		}
	}
	if !Equal(r, Response(key, "100", ch)) {
		t.Fatal("the response is not a function of its inputs")
	}
}
