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
	// Undone, on the step that ended an order (cancelled, failed, expired), is what the
	// ending took back, so that the portal says what happened rather than what might have.
	Undone *Undone `json:"undone,omitempty"`
}

// Undone is what an order's ending took back: the unfinished card it deleted and the
// certificates it revoked. Zero when nothing had been made.
type Undone struct {
	CardDeleted         bool `json:"cardDeleted"`
	CertificatesRevoked int  `json:"certificatesRevoked"`
}

// Device describes where a virtual card lives, as the desktop bridge reported it.
type Device struct {
	Reader        string `json:"reader"`
	Host          string `json:"host,omitempty"`
	BridgeVersion string `json:"bridgeVersion,omitempty"`
	Firmware      string `json:"firmware,omitempty"`
}

// PINState is what the Desktop App last reported of a card's PIN and PUK, read on the card
// through PC/SC while it worked on an order of the card. The server cannot read the card
// itself, so this is as old as ReportedAt.
type PINState struct {
	// TriesLeft is how many wrong PINs the card still takes; 0 with Blocked.
	TriesLeft int `json:"triesLeft"`
	// Blocked: the PIN is blocked; Reset PIN unblocks it with the PUK.
	Blocked bool `json:"blocked"`
	// PUKBlocked: the PUK is blocked too, so the PIN cannot be reset: only a new card helps.
	PUKBlocked bool      `json:"pukBlocked"`
	ReportedAt time.Time `json:"reportedAt"`
}
