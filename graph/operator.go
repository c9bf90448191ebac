package graph

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/vscard/vscard/ent/predicate"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
)

// maxPeopleQuery caps the people search's query: names and addresses are shorter.
const maxPeopleQuery = 200

// peopleMatching is the people search's condition: a prefix match of each searchable
// column on each form of the query. It is a prefix match in a form each database serves
// from a plain index (ent/schema/user.go): LIKE 'q%' on PostgreSQL, whose text_pattern_ops
// index turns it into a byte-wise range whatever the collation; GLOB 'q*' on SQLite, whose
// LIKE ignores case and so never uses a BINARY index. Case-insensitive columns would need
// expression indexes ent cannot declare, hence the few forms of the query instead.
func peopleMatching(q string) predicate.User {
	q = strings.TrimSpace(q)
	if q == "" {
		return func(*sql.Selector) {}
	}
	lower := strings.ToLower(q)
	forms := map[string][]string{
		user.FieldUsername:    {q, lower},
		user.FieldEmail:       {q, lower},
		user.FieldDisplayName: {q, capitalized(q)},
	}
	return func(s *sql.Selector) {
		var ps []*sql.Predicate
		for col, vals := range forms {
			seen := map[string]bool{}
			for _, v := range vals {
				if seen[v] {
					continue
				}
				seen[v] = true
				ps = append(ps, prefixOf(s, col, v))
			}
		}
		s.Where(sql.Or(ps...))
	}
}

func prefixOf(s *sql.Selector, col, prefix string) *sql.Predicate {
	c := s.C(col)
	if s.Dialect() == dialect.Postgres {
		// PostgreSQL's LIKE escapes with a backslash by default.
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
		return sql.P(func(b *sql.Builder) { b.WriteString(c).WriteString(" LIKE ").Arg(esc + "%") })
	}
	// GLOB has no escape character; a class of one character matches it literally.
	esc := strings.NewReplacer(`*`, `[*]`, `?`, `[?]`, `[`, `[[]`).Replace(prefix)
	return sql.P(func(b *sql.Builder) { b.WriteString(c).WriteString(" GLOB ").Arg(esc + "*") })
}

func capitalized(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// withReason is ctx carrying reason for the audit events of the request (audit.WithReason):
// why an operator acts for someone. A reason longer than audit.MaxReason is INVALID_INPUT.
func withReason(ctx context.Context, reason *string) (context.Context, error) {
	r := strings.TrimSpace(deref(reason))
	if n := utf8.RuneCountInString(r); n > audit.MaxReason {
		return ctx, errs.New(errs.InvalidInput, "The reason is %d characters long; shorten it to at most %d.", n, audit.MaxReason).
			WithDetails(map[string]any{"field": "reason", "max": audit.MaxReason})
	}
	return audit.WithReason(ctx, r), nil
}
