package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/server/cardspec"
)

// Card states in the agent's records.
const (
	StateEnrolling = "enrolling" // created by an enrolment that has not finished
	StateReady     = "ready"     // enrolled: certificates on the card, server told
	StateUnknown   = "unknown"   // a card file without a record (made by another tool)
)

// record is what the agent keeps about a card besides the card file.
type record struct {
	Serial       uint32                `json:"serial"`
	State        string                `json:"state"`
	Server       string                `json:"server,omitempty"`
	Order        string                `json:"order,omitempty"`
	UserName     string                `json:"userName,omitempty"`
	CreatedAt    time.Time             `json:"createdAt"`
	ValidUntil   time.Time             `json:"validUntil,omitzero"`
	Certificates []handoff.Certificate `json:"certificates,omitempty"`
	// PINPolicy is the last PIN policy the card's server gave (at issuance, in a process
	// on the card, at a sync): what a PIN chosen without the portal must meet.
	PINPolicy *cardspec.PINPolicy `json:"pinPolicy,omitempty"`
}

// records keeps one JSON file per card.
type records struct{ dir string }

func (r records) path(serial uint32) string {
	return filepath.Join(r.dir, strconv.FormatUint(uint64(serial), 10)+".json")
}

func (r records) load(serial uint32) (*record, error) {
	b, err := os.ReadFile(r.path(serial))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read card record: %w", err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("parse card record %d: %w", serial, err)
	}
	return &rec, nil
}

func (r records) save(rec *record) error {
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return fmt.Errorf("create record directory: %w", err)
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode card record: %w", err)
	}
	tmp := r.path(rec.Serial) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write card record: %w", err)
	}
	if err := os.Rename(tmp, r.path(rec.Serial)); err != nil {
		return fmt.Errorf("write card record: %w", err)
	}
	return nil
}

func (r records) remove(serial uint32) error {
	if err := os.Remove(r.path(serial)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove card record: %w", err)
	}
	return nil
}
