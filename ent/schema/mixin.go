package schema

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/vektah/gqlparser/v2/ast"
)

// idMixin gives an entity a string id with a type prefix ("crd_…"). The prefix lets
// node(id:) find the table without a lookup, and makes ids readable in logs and the audit
// log. The random part is 80 bits of crypto/rand: ids are not secrets, but they are not
// guessable either.
type idMixin struct {
	mixin.Schema
	prefix string
}

// IDPrefixes maps each id prefix to its table; the GraphQL node resolver uses it.
var IDPrefixes = map[string]string{}

func withID(prefix, table string) idMixin {
	IDPrefixes[prefix] = table
	return idMixin{prefix: prefix}
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a fresh id with prefix.
func NewID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// PrefixOf returns the type prefix of id, or "".
func PrefixOf(id string) string {
	p, _, ok := strings.Cut(id, "_")
	if !ok {
		return ""
	}
	return p
}

func (m idMixin) Fields() []ent.Field {
	prefix := m.prefix
	return []ent.Field{
		field.String("id").
			Immutable().
			NotEmpty().
			MaxLen(40).
			DefaultFunc(func() string { return NewID(prefix) }),
	}
}

// timeMixin records when a row was created and last changed.
type timeMixin struct{ mixin.Schema }

func (timeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").
			Immutable().
			Default(time.Now).
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.OrderField("UPDATED_AT")),
	}
}

// access returns the @access directive of graph/schema.graphqls for a generated root field.
func access(kinds ...string) entgql.Directive {
	list := &ast.Value{Kind: ast.ListValue}
	for _, k := range kinds {
		list.Children = append(list.Children, &ast.ChildValue{Value: &ast.Value{Raw: k, Kind: ast.EnumValue}})
	}
	return entgql.NewDirective("access", &ast.Argument{Name: "allow", Value: list})
}
