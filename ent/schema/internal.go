package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vscard/vscard/server/cardspec"
)

// Session is a server-side browser session (the session library's store). The token is
// stored only as a hash; the row is useless to someone who reads the database.
type Session struct{ ent.Schema }

func (Session) Mixin() []ent.Mixin { return []ent.Mixin{withID("ses", "sessions")} }

func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_hash").Unique().Immutable().NotEmpty(),
		field.Bytes("data").Sensitive(),
		field.Time("expiry"),
		// user_id is the signed-in person (empty before sign-in), so that all of a
		// person's sessions can be ended at once: locked, signed out everywhere. A plain
		// column, not an edge: a session row must not hold up deleting its user.
		field.String("user_id").Default(""),
	}
}

func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expiry"), index.Fields("user_id")}
}

func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// CaRecord is the embedded CA's own record of a certificate, kept apart from the identity
// store's Certificate. It is written before the CA signs, so whatever was signed is
// revocable even when the rest of an order fails.
type CaRecord struct{ ent.Schema }

func (CaRecord) Mixin() []ent.Mixin { return []ent.Mixin{withID("car", "ca_records"), timeMixin{}} }

func (CaRecord) Fields() []ent.Field {
	return []ent.Field{
		field.String("serial").Unique().Immutable().NotEmpty(),
		field.String("reference").Immutable().Default(""),
		field.String("template").GoType(cardspec.Template("")).Immutable(),
		field.String("subject").Immutable(),
		field.Time("not_before").Immutable(),
		field.Time("not_after").Immutable(),
		field.Enum("state").Values("PENDING", "VALID", "ON_HOLD", "REVOKED", "EXPIRED").Default("PENDING"),
		field.Bytes("der").Optional(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Int("revocation_reason").Optional().Nillable(),
	}
}

func (CaRecord) Indexes() []ent.Index {
	return []ent.Index{index.Fields("state"), index.Fields("reference")}
}

func (CaRecord) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// CaCRL is the last CRL signed for one scope (a partition, or the whole CRL), shared by
// the instances of a cluster so that each change is signed once, not once per instance.
// A revocation or reinstatement bumps changes; the CRL covers the change count read
// before its entries were listed (signed_changes). One instance signs at a time: it
// holds the row's lease (lease_until, in one conditional UPDATE) while it signs.
type CaCRL struct{ ent.Schema }

func (CaCRL) Mixin() []ent.Mixin { return []ent.Mixin{withID("crl", "ca_crls")} }

func (CaCRL) Fields() []ent.Field {
	return []ent.Field{
		field.Int("scope").Unique().Immutable(),
		field.Int64("changes").Default(0),
		field.Int64("signed_changes").Default(-1),
		// Number is the CRL number in decimal (it outgrows int64's range only in theory,
		// but it is a big integer in the CRL).
		field.String("number").Default(""),
		field.Bytes("der").Optional(),
		field.Time("this_update").Optional().Nillable(),
		field.Time("next_update").Optional().Nillable(),
		// Holder is the instance that signs or signed last, for logs.
		field.String("holder").Default(""),
		field.Time("lease_until").Optional().Nillable(),
	}
}

func (CaCRL) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "ca_crls"}, entgql.Skip(entgql.SkipAll)}
}

func (CaCRL) Policy() ent.Policy { return systemOnly() }
