package enroll

import (
	"testing"
	"time"

	"github.com/vscard/vscard/server/errs"
)

// TestLimiterFollowsTheEngineClock: a bucket refills as the injected clock moves, not as
// the wall clock does, so tests of rate limits move time instead of sleeping.
func TestLimiterFollowsTheEngineClock(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(6, 2, func() time.Time { return now }) // one token every 10 s
	for i := range 2 {
		if err := l.allow("alice", "tries"); err != nil {
			t.Fatalf("try %d within the burst: %v", i+1, err)
		}
	}
	err := l.allow("alice", "tries")
	if errs.CodeOf(err) != errs.RateLimited {
		t.Fatalf("third try at once: %v, want RATE_LIMITED", err)
	}
	if err := l.allow("bob", "tries"); err != nil {
		t.Fatalf("another key has its own bucket: %v", err)
	}
	now = now.Add(9 * time.Second)
	if err := l.allow("alice", "tries"); errs.CodeOf(err) != errs.RateLimited {
		t.Fatalf("after 9 s: %v, want RATE_LIMITED", err)
	}
	now = now.Add(2 * time.Second)
	if err := l.allow("alice", "tries"); err != nil {
		t.Fatalf("after 11 s a token is back: %v", err)
	}
}
