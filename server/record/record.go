// Package record holds small value types that are stored as JSON on ent entities and shown
// through GraphQL. It depends on nothing in vscard so ent/schema can import it.
package record

import "time"

// OrderStep is one entry in an order's step history.
type OrderStep struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
	// Note is a short human-readable detail ("card 12345678 created"); never a secret.
	Note string `json:"note,omitempty"`
}

// Device describes where a virtual card lives, as the desktop bridge reported it.
type Device struct {
	Reader        string `json:"reader"`
	Host          string `json:"host,omitempty"`
	BridgeVersion string `json:"bridgeVersion,omitempty"`
	Firmware      string `json:"firmware,omitempty"`
}
