package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// User is a person known from the identity provider. Identity is issuer + subject.
type User struct{ ent.Schema }

func (User) Mixin() []ent.Mixin { return []ent.Mixin{withID("usr", "users"), timeMixin{}} }

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("oidc_issuer").Immutable().NotEmpty().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("oidc_subject").Immutable().NotEmpty().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("username").NotEmpty().Annotations(entgql.OrderField("USERNAME")),
		field.String("display_name").Default(""),
		field.String("email").Default("").Annotations(entgql.OrderField("EMAIL")),
		field.Enum("state").
			Values("REGISTERED", "ACTIVE", "INACTIVE", "LOCKED").
			Default("REGISTERED").
			Annotations(entgql.OrderField("STATE")),
		field.Strings("roles").Default([]string{}).Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.JSON("attributes", map[string]any{}).
			Optional().
			Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipWhereInput)),
		field.Time("last_login_at").Optional().Nillable(),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("cards", Card.Type).Annotations(entgql.RelayConnection()),
		edge.To("orders", Order.Type).Annotations(entgql.RelayConnection()),
	}
}

func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("oidc_issuer", "oidc_subject").Unique(),
		// The administrators' users page and the script editor list users by name.
		// The operator console's people search is a prefix match on each of these
		// (graph/operator.go): on PostgreSQL text_pattern_ops lets a btree serve the
		// byte-wise range it becomes whatever the database's collation; SQLite's default
		// BINARY indexes serve it as they are.
		// The plain username index stays for ORDER BY username, which a text_pattern_ops
		// index does not serve under a non-C collation.
		index.Fields("username"),
		index.Fields("username").Annotations(entsql.OpClass("text_pattern_ops")).StorageKey("user_username_prefix"),
		index.Fields("email").Annotations(entsql.OpClass("text_pattern_ops")).StorageKey("user_email_prefix"),
		index.Fields("display_name").Annotations(entsql.OpClass("text_pattern_ops")).StorageKey("user_display_name_prefix"),
	}
}

func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField().Directives(access("OPERATOR")), entgql.RelayConnection()}
}
