package notices

import (
	"context"
	"fmt"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/task"
)

// OpenTasks returns a person's open tasks, soonest expiry first, as the caller (ctx) may see
// them. A task the check has not yet closed but that no longer holds (the card was renewed
// or ended since its last run) is left out, so that the start page never offers to renew a
// card that was just renewed.
func OpenTasks(ctx context.Context, db *ent.Client, userID string, now time.Time) ([]*ent.Task, error) {
	tasks, err := db.Task.Query().
		Where(task.OwnerID(userID), task.StateEQ(task.StateOPEN), task.ExpiresAtGT(now)). // index (owner_id, state)
		Order(ent.Asc(task.FieldExpiresAt)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load tasks: %w", err)
	}
	if len(tasks) == 0 {
		return tasks, nil
	}
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.CardID
	}
	cards, err := db.Card.Query().Where(card.IDIn(ids...), card.StateIn(card.StateACTIVE, card.StateLOCKED)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the cards of tasks: %w", err)
	}
	current := map[string]time.Time{}
	for _, c := range cards {
		current[c.ID] = c.ValidUntil
	}
	out := tasks[:0]
	for _, t := range tasks {
		if until, ok := current[t.CardID]; ok && until.Equal(t.ExpiresAt) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Process returns the process a task offers.
func Process(t *ent.Task) string {
	if t.Kind == task.KindRENEW_CARD {
		return ProcessRenew
	}
	return ""
}
