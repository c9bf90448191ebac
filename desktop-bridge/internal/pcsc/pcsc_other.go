//go:build !(linux || darwin || freebsd || openbsd)

package pcsc

import "errors"

// Card is not available here: raw APDUs are sent through libpcsclite only, which this
// system does not have (Windows' winscard would need its own binding).
type Card struct{}

var errUnsupported = errors.New("raw PC/SC commands are not supported on this system")

// Connect fails on this system.
func Connect(string) (*Card, error) { return nil, errUnsupported }

// Transmit fails on this system.
func (*Card) Transmit([]byte) ([]byte, uint16, error) { return nil, 0, errUnsupported }

// Close does nothing.
func (*Card) Close() error { return nil }
