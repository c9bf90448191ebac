package cardproof

import (
	"bytes"
	"testing"
)

// TestResponse: the answer binds the key, the serial and the challenge, and is never the
// AES encryption of the challenge that PIV's own authentication would accept.
func TestResponse(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 24)
	ch := NewChallenge()
	if len(ch) != ChallengeLen || bytes.Equal(ch, NewChallenge()) {
		t.Fatal("challenges are not fresh random bytes")
	}
	r := Response(key, "12345678", ch)
	if !Verify(key, "12345678", ch, r) {
		t.Fatal("the card's own answer refused")
	}
	for name, ok := range map[string]bool{
		"other key":       Verify(bytes.Repeat([]byte{8}, 24), "12345678", ch, r),
		"other serial":    Verify(key, "12345679", ch, r),
		"other challenge": Verify(key, "12345678", NewChallenge(), r),
		"truncated":       Verify(key, "12345678", ch, r[:16]),
		// The serial and the challenge are kept apart: moving a byte between them changes the answer.
		"shifted": Verify(key, "1234567", append([]byte("8"), ch...), r),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if bytes.Equal(Digest(ch), ch) || len(Digest(ch)) != 32 {
		t.Error("the digest is not SHA-256 of the challenge")
	}
}
