package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/server/viewer"
)

// RotateSecrets re-seals every card's management key and PUK under the current secret key.
// Run it after starting to use a new key (the old one in PreviousSecretKeys); afterwards the
// old key can be dropped. It returns how many cards it re-sealed.
func (s *Server) RotateSecrets(ctx context.Context) (int, error) {
	box, err := s.secretBox()
	if err != nil {
		return 0, err
	}
	ctx = viewer.AsServer(ctx)
	cards, err := s.DB.Client.Card.Query().Select(card.FieldID, card.FieldSerial, card.FieldManagementKey, card.FieldPuk, card.FieldPukUnconfirmed).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("list cards: %w", err)
	}
	n := 0
	for _, c := range cards {
		unconfirmed := c.PukUnconfirmed != nil && len(*c.PukUnconfirmed) > 0
		if !box.NeedsRotation(c.ManagementKey) && !box.NeedsRotation(c.Puk) &&
			(!unconfirmed || !box.NeedsRotation(*c.PukUnconfirmed)) {
			continue
		}
		mk, err := box.Open(c.ManagementKey, "card:management-key:"+c.Serial)
		if err != nil {
			return n, fmt.Errorf("open management key of card %s: %w", c.Serial, err)
		}
		puk, err := box.Open(c.Puk, "card:puk:"+c.Serial)
		if err != nil {
			return n, fmt.Errorf("open PUK of card %s: %w", c.Serial, err)
		}
		u := s.DB.Client.Card.UpdateOneID(c.ID).
			SetManagementKey(box.Seal(mk, "card:management-key:"+c.Serial)).
			SetPuk(box.Seal(puk, "card:puk:"+c.Serial))
		// The PUKs of an interrupted reset-pin: the card may have one of them.
		if unconfirmed {
			pending, err := box.Open(*c.PukUnconfirmed, "card:puk-unconfirmed:"+c.Serial)
			if err != nil {
				return n, fmt.Errorf("open unconfirmed PUKs of card %s: %w", c.Serial, err)
			}
			u.SetPukUnconfirmed(box.Seal(pending, "card:puk-unconfirmed:"+c.Serial))
		}
		err = u.Exec(ctx)
		if err != nil {
			return n, fmt.Errorf("re-seal card %s: %w", c.Serial, err)
		}
		n++
	}
	s.log.Info("re-sealed card secrets under the current key", "cards", n, "of", len(cards))
	return n, nil
}

// RotateSecretsCommand opens the server's storage and secret keys from cfg and re-seals.
func RotateSecretsCommand(ctx context.Context, cfg Config, log *slog.Logger) (int, error) {
	s, err := New(ctx, cfg, log)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return s.RotateSecrets(ctx)
}
