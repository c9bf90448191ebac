package enroll

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/vscard/vscard/server/errs"
)

// Limits bound how often one caller may try things that are worth guessing or flooding:
// claiming an order with a token, and starting orders. They are per server instance; with
// several instances the effective limit is their sum, which still stops guessing.
type Limits struct {
	// ClaimsPerMinute and ClaimBurst bound claim attempts per order (default 10 / 20).
	ClaimsPerMinute float64
	ClaimBurst      int
	// StartsPerMinute and StartBurst bound order starts per user (default 20 / 20).
	StartsPerMinute float64
	StartBurst      int
	// UnblocksPerMinute and UnblockBurst bound the offline unblock responses (and refused
	// challenges) per person (default 2 / 5): a person unblocks a card now and then, and
	// every response unblocks it once more.
	UnblocksPerMinute float64
	UnblockBurst      int
	// TPMChallengesPerMinute and TPMChallengeBurst bound the TPM challenges per bridge
	// session (default 6 / 10), ...PerPerson... per person over all their sessions (default
	// 12 / 30). A Desktop App asks once per submission of keys and retries a few times; each
	// challenge costs the server a credential made for the TPM's endorsement key and a write.
	TPMChallengesPerMinute          float64
	TPMChallengeBurst               int
	TPMChallengesPerPersonPerMinute float64
	TPMChallengePersonBurst         int
}

func (l *Limits) defaults() {
	if l.ClaimsPerMinute == 0 {
		l.ClaimsPerMinute = 10
	}
	if l.ClaimBurst == 0 {
		l.ClaimBurst = 20
	}
	if l.StartsPerMinute == 0 {
		l.StartsPerMinute = 20
	}
	if l.StartBurst == 0 {
		l.StartBurst = 20
	}
	if l.UnblocksPerMinute == 0 {
		l.UnblocksPerMinute = 2
	}
	if l.UnblockBurst == 0 {
		l.UnblockBurst = 5
	}
	if l.TPMChallengesPerMinute == 0 {
		l.TPMChallengesPerMinute = 6
	}
	if l.TPMChallengeBurst == 0 {
		l.TPMChallengeBurst = 10
	}
	if l.TPMChallengesPerPersonPerMinute == 0 {
		l.TPMChallengesPerPersonPerMinute = 12
	}
	if l.TPMChallengePersonBurst == 0 {
		l.TPMChallengePersonBurst = 30
	}
}

// limiter keeps one token bucket per key and forgets idle ones.
type limiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
	now     func() time.Time // the engine's clock, so tests refill buckets by moving it
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiter(perMinute float64, burst int, now func() time.Time) *limiter {
	return &limiter{every: rate.Limit(perMinute / 60), burst: burst, buckets: map[string]*bucket{}, now: now}
}

// allow takes one token for key, or returns a RATE_LIMITED error saying when to retry.
func (l *limiter) allow(key, what string) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.used) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	if b.lim.AllowN(now, 1) {
		return nil
	}
	wait := time.Duration(float64(time.Second) / float64(l.every))
	return errs.New(errs.RateLimited, "Too many %s; try again in %s.", what, wait.Round(time.Second)).
		WithDetails(map[string]any{"retryAfterSeconds": int(wait.Seconds()) + 1})
}
