package schema

import (
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/revocation"
)

// Certificate is the identity store's record of a certificate on a card. The CA keeps its
// own record (CaRecord); at the end of an order both say VALID.
type Certificate struct{ ent.Schema }

func (Certificate) Mixin() []ent.Mixin {
	return []ent.Mixin{withID("crt", "certificates"), timeMixin{}}
}

func (Certificate) Fields() []ent.Field {
	return []ent.Field{
		field.String("serial").Unique().Immutable().NotEmpty().Annotations(entgql.OrderField("SERIAL")),
		// Slot is the PIV key slot in upper-case hex ("9A", "9C", "9D").
		field.String("slot").Immutable().Match(regexp.MustCompile(`^9[ACD]$`)).
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Enum("template").GoType(cardspec.Template("")).Immutable().
			Annotations(entgql.Type("CertificateTemplate")),
		field.Enum("key_algorithm").GoType(cardspec.KeyAlgorithm("")).Immutable().
			Annotations(entgql.Type("KeyAlgorithm")),
		field.String("subject").Immutable(),
		field.Strings("sans").Default([]string{}).Immutable().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("issuer").Immutable(),
		field.Time("not_before").Immutable().Annotations(entgql.OrderField("NOT_BEFORE")),
		field.Time("not_after").Immutable().Annotations(entgql.OrderField("NOT_AFTER")),
		field.Enum("state").
			Values("VALID", "ON_HOLD", "REVOKED", "EXPIRED").
			Default("VALID").
			Annotations(entgql.OrderField("STATE")),
		// RevocationReason is the RFC 5280 reason the CRL and OCSP give, for ON_HOLD and REVOKED.
		field.Enum("revocation_reason").GoType(revocation.Reason("")).Optional().Nillable().
			Annotations(entgql.Type("CrlReason")),
		field.Time("revoked_at").Optional().Nillable(),
		field.Bytes("der").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// Attestation is the slot's attestation certificate from the card (DER), if any.
		field.Bytes("attestation").Optional().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Bool("attestation_verified").Default(false),
		field.String("card_id").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("order_id").Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// The certificate that superseded this one (renew-virtual-smart-card: the new one of
		// the same slot; replace-virtual-smart-card: the new card's of the same slot), set
		// with the revocation as superseded, so that an operator or a relying party follows
		// a superseded certificate to its successor.
		field.String("superseded_by_id").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

func (Certificate) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("card", Card.Type).Ref("certificates").Field("card_id").Unique(),
		edge.From("order", Order.Type).Ref("certificates").Field("order_id").Unique().Required().Immutable(),
		// superseded_by is the certificate that superseded this one; supersedes those it did.
		edge.To("supersedes", Certificate.Type).From("superseded_by").Field("superseded_by_id").Unique(),
	}
}

func (Certificate) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("order_id", "slot").Unique(),
		index.Fields("card_id"), // card status looks certificates up by card
	}
}

func (Certificate) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField().Directives(access("USER")), entgql.RelayConnection()}
}
