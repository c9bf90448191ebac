// Package testclock is a clock that tests move by hand, for the server's injected clock
// (server.Config.Now, and the Now of the packages it configures): a test that checks an
// expiry moves the clock past it instead of sleeping, so it neither waits nor depends on
// how busy the machine is.
//
// It lives apart from servertest so that the tests of packages server itself imports
// (server/auth, server/enroll, ...) can use it too.
package testclock

import (
	"sync"
	"time"
)

// Clock runs with the real clock, shifted by however far the test has moved it. It keeps
// running (rather than standing still) so that code that expects time to pass between two
// readings, e.g. ordered timestamps, behaves as in production.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// New returns a clock that reads the real time until it is moved.
func New() *Clock { return &Clock{} }

// Now is the clock's time. Pass the method value (c.Now) as a func() time.Time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	if d < 0 {
		panic("testclock: the clock only moves forward")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
