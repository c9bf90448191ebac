package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/record"
)

// Order is one run of a self-service process ("get-virtual-smart-card", or a card process
// that acts on an existing card). Its state moves only through server/enroll, which checks
// every transition against the table of the order's process, in one place. The state enum
// is the union of every process's states; each process uses a subset.
type Order struct{ ent.Schema }

func (Order) Mixin() []ent.Mixin { return []ent.Mixin{withID("ord", "orders"), timeMixin{}} }

func (Order) Fields() []ent.Field {
	return []ent.Field{
		field.String("process").Immutable().Default("get-virtual-smart-card"),
		field.Enum("state").
			Values(
				"STARTED", "AWAITING_DESKTOP_APP", "DESKTOP_APP_CONNECTED", "CREATING_CARD",
				"ISSUING_CERTIFICATES", "CARD_READY", "RESETTING_PIN", "COMPLETED",
				"CANCELLED", "FAILED", "EXPIRED",
			).
			Default("STARTED").
			Annotations(entgql.Type("OrderState"), entgql.OrderField("STATE")),
		field.JSON("steps", []record.OrderStep{}).
			Annotations(entgql.Type("[OrderStep!]"), entgql.Skip(entgql.SkipWhereInput)),
		// The one-time hand-off token, stored only as a SHA-256 hash.
		field.Bytes("token_hash").Optional().Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("token_expires_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("token_used_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		// The bridge session issued at claim, bound to this order, stored only as a hash.
		field.Bytes("bridge_session_hash").Optional().Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("bridge_session_expires_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		// The outstanding TPM credential challenge (server/tpmverify): the digest binding
		// its secret to the AK and the EK certificate, and when it stops working. Cleared
		// when answered, right or wrong, so a challenge is answered once.
		field.Bytes("tpm_challenge").Optional().Nillable().Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("tpm_challenge_expires_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.JSON("options", &cardspec.Options{}).
			Optional().
			Annotations(entgql.Type("Options"), entgql.Skip(entgql.SkipWhereInput)),
		field.String("option_script_version").Optional().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("verification_code").Default(""),
		field.String("failure_reason").Optional().Nillable(),
		// ExpiresAt is when the sweep moves a still-running order to EXPIRED.
		field.Time("expires_at").Annotations(entgql.OrderField("EXPIRES_AT")),
		field.Time("finished_at").Optional().Nillable(),
		// Version increments on every transition; updates are conditional on it, so two
		// racing transitions cannot both win (optimistic locking, portable across databases).
		field.Int("version").Default(0).Annotations(entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("user_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// The existing card a card process (lock, change PIN, renew...) acts on; empty for
		// a process that makes a new card, which is the card edge instead.
		field.String("subject_card_id").Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Order) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("orders").Field("user_id").Unique().Required().Immutable(),
		// The card this order made (get-virtual-smart-card).
		edge.To("card", Card.Type).Unique(),
		// The card this order acts on (a card process): distinct from the card it made.
		edge.From("subject_card", Card.Type).Ref("subject_orders").Field("subject_card_id").Unique().Immutable(),
		edge.To("certificates", Certificate.Type).Annotations(entgql.RelayConnection()),
	}
}

func (Order) Indexes() []ent.Index {
	return []ent.Index{
		// The sweeper: orders still running past their expiry, orders that ended since the
		// last sweep (their certificates are revoked at the CA).
		index.Fields("state", "expires_at"),
		index.Fields("state", "finished_at"),
		index.Fields("token_hash"),
		index.Fields("bridge_session_hash"),
		// A user's orders, newest first: the order in progress, the dashboard, the orders page.
		index.Fields("user_id", "created_at"),
		// At most one order in progress per person (every ending sets finished_at): the
		// database refuses a second, so a start needs no lock on the person's row.
		index.Fields("user_id").Unique().Annotations(entsql.IndexWhere("finished_at IS NULL")).
			StorageKey("order_user_id_running"),
		// Everyone's orders, newest first: the administrators' orders page.
		index.Fields("created_at"),
		// A card's orders: the orders that changed it, the order running on it.
		index.Fields("subject_card_id"),
	}
}

func (Order) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField().Directives(access("USER")), entgql.RelayConnection()}
}
