package schema

import (
	"context"
	"errors"

	"entgo.io/ent"

	"github.com/vscard/vscard/ent/hook"
)

// errAppendOnly is returned for any attempt to change or remove an audit event.
var errAppendOnly = errors.New("the audit log is append-only")

func (AuditEvent) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(context.Context, ent.Mutation) (ent.Value, error) {
				return nil, errAppendOnly
			})
		}, ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne),
	}
}
