package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/server/audit"
)

// auditLabelCache holds the labels of the audit events one operation returns: the
// auditEvents resolver resolves a page's labels in one batch (audit.Labels), and the
// events' label fields read them from here instead of a look-up each.
type auditLabelCache struct {
	mu     sync.Mutex
	labels map[string]audit.Label
}

type auditLabelKey struct{}

// withAuditLabels gives each operation its own cache.
func withAuditLabels(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, auditLabelKey{}, &auditLabelCache{labels: map[string]audit.Label{}}))
}

// primeAuditLabels resolves the labels of events for the rest of the operation.
func (r *Resolver) primeAuditLabels(ctx context.Context, events []*ent.AuditEvent) error {
	c, _ := ctx.Value(auditLabelKey{}).(*auditLabelCache)
	if c == nil || len(events) == 0 {
		return nil
	}
	labels, err := audit.Labels(ctx, r.DB, events)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, l := range labels {
		c.labels[id] = l
	}
	return nil
}

// auditLabel is ev's label: from the operation's cache, or resolved alone (an event read
// through node(id:)).
func (r *Resolver) auditLabel(ctx context.Context, ev *ent.AuditEvent) (audit.Label, error) {
	c, _ := ctx.Value(auditLabelKey{}).(*auditLabelCache)
	if c != nil {
		c.mu.Lock()
		l, ok := c.labels[ev.ID]
		c.mu.Unlock()
		if ok {
			return l, nil
		}
	}
	labels, err := audit.Labels(ctx, r.DB, []*ent.AuditEvent{ev})
	if err != nil {
		return audit.Label{}, err
	}
	return labels[ev.ID], nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
