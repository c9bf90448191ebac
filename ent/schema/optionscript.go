package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// OptionScript is one saved version of an option script. Every version is kept; the
// newest version of a name is the one in force.
type OptionScript struct{ ent.Schema }

func (OptionScript) Mixin() []ent.Mixin { return []ent.Mixin{withID("ops", "option_scripts")} }

func (OptionScript) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Immutable().NotEmpty(),
		field.Int("version").Immutable().Positive(),
		field.Text("source").Immutable(),
		field.String("author").Immutable(),
		field.String("comment").Immutable().Default(""),
		field.Time("created_at").Immutable().Default(time.Now),
	}
}

func (OptionScript) Indexes() []ent.Index {
	return []ent.Index{index.Fields("name", "version").Unique()}
}

func (OptionScript) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
