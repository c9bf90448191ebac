package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEvent is one line of the append-only audit log: who did what to which object, when
// and from where. Updates and deletes are refused by a hook.
type AuditEvent struct{ ent.Schema }

func (AuditEvent) Mixin() []ent.Mixin { return []ent.Mixin{withID("aud", "audit_events")} }

func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Time("at").Immutable().Annotations(entgql.OrderField("AT")),
		// Actor is the actor's name when it acted (a username, a portal's client id,
		// "bridge:<order>", "card:<serial>", "system", "anonymous"); ActorID the person's id
		// for a person and for the Desktop App acting for its order's or card's owner, ""
		// otherwise.
		field.String("actor").Immutable(),
		field.String("actor_id").Immutable().Default(""),
		field.String("actor_kind").Immutable(),
		field.String("action").Immutable(),
		field.String("object_type").Immutable(),
		field.String("object_id").Immutable(),
		field.String("remote_addr").Immutable().Default(""),
		// SubjectID is the person the event is about: the person themself for a User, the
		// owner of a card, an order or a certificate (audit.Write finds them); "" for an
		// event about no one (an option script). A person's trail reads by it.
		// The type shows it as subjectID (graph/audit.graphqls), with the person's name.
		field.String("subject_id").Immutable().Default("").Annotations(entgql.Skip(entgql.SkipType)),
		field.JSON("details", map[string]any{}).Optional().Immutable().
			Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipWhereInput)),
	}
}

func (AuditEvent) Indexes() []ent.Index {
	// A person's page and the log filtered by person read by actor or by subject (what
	// was done by them, what was done about them), an object's page by object, newest
	// first; the log filtered by action reads by action, newest first.
	return []ent.Index{
		index.Fields("object_type", "object_id", "at"), index.Fields("at"),
		index.Fields("actor_id", "at"), index.Fields("subject_id", "at"), index.Fields("action", "at"),
	}
}

func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField().Directives(access("OPERATOR")), entgql.RelayConnection()}
}
