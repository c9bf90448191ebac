package graph

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/vscard/vscard/server/errs"
)

// Limits bound what one GraphQL request may ask of the server. All but MaxComplexity are
// checked on the raw document before gqlparser validates it: validation is where the
// cost was (the overlapping-fields rule compares fields pairwise, and fragments are
// compared as expanded), so a limit checked after it refuses only once the work is done.
// A zero field takes its default; the defaults leave the SPA's and the desktop bridge's
// operations, and GraphiQL's introspection query, well inside every limit (see
// TestRealOperationsPassLimits).
type Limits struct {
	// MaxBytes bounds the query text (default 32 KiB). Large values travel as variables.
	MaxBytes int
	// MaxTokens bounds the query's lexical tokens (default 5000), before it is parsed.
	MaxTokens int
	// MaxSelections bounds the fields, fragment spreads and inline fragments of the whole
	// document, every fragment counted as often as it is spread (default 1000).
	MaxSelections int
	// MaxAliases bounds aliased fields, counted the same way (default 100).
	MaxAliases int
	// MaxDirectives bounds directives, counted the same way (default 50).
	MaxDirectives int
	// MaxValues bounds the values in argument literals and default values, counted the
	// same way, and separately the values in the request's variables (default 1000 each).
	MaxValues int
	// MaxValueDepth bounds how deeply lists and input objects nest, in literals and in
	// variables (default 10).
	MaxValueDepth int
	// MaxDepth bounds how deeply selections nest (default 12), introspection aside.
	MaxDepth int
	// MaxComplexity bounds gqlgen's complexity estimate of the chosen operation (default
	// 1000), checked after validation. No field declares a cost of its own, so the
	// estimate counts fields, and MaxSelections already holds it to the default.
	MaxComplexity int
}

// DefaultLimits are the limits NewHandler uses where HandlerOptions.Limits leaves a zero.
var DefaultLimits = Limits{
	MaxBytes:      32 << 10,
	MaxTokens:     5000,
	MaxSelections: 1000,
	MaxAliases:    100,
	MaxDirectives: 50,
	MaxValues:     1000,
	MaxValueDepth: 10,
	MaxDepth:      12,
	MaxComplexity: 1000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&l.MaxBytes, d.MaxBytes)
	set(&l.MaxTokens, d.MaxTokens)
	set(&l.MaxSelections, d.MaxSelections)
	set(&l.MaxAliases, d.MaxAliases)
	set(&l.MaxDirectives, d.MaxDirectives)
	set(&l.MaxValues, d.MaxValues)
	set(&l.MaxValueDepth, d.MaxValueDepth)
	set(&l.MaxDepth, d.MaxDepth)
	set(&l.MaxComplexity, d.MaxComplexity)
	return l
}

// Limit names, as a refusal's extensions.limit.
const (
	limitSize       = "size"
	limitTokens     = "tokens"
	limitSelections = "selections"
	limitAliases    = "aliases"
	limitDirectives = "directives"
	limitValues     = "values"
	limitValueDepth = "value depth"
	limitDepth      = "depth"
	limitComplexity = "complexity"
)

func init() {
	// gqlgen answers a document it refuses before running it with 200, or with 422 for a
	// "protocol" error such as one that does not parse. The codes whose status
	// (errs.HTTPStatus) is 422 are such errors, so gqlgen answers them with their status.
	for _, c := range errs.Codes() {
		if errs.HTTPStatus(c) == http.StatusUnprocessableEntity {
			errcode.RegisterErrorType(string(c), errcode.KindProtocol)
		}
	}
}

// tooComplex is the refusal of a document over limit, naming the limit and its value.
func tooComplex(limit string, max int, format string, args ...any) *errs.Error {
	return errs.New(errs.QueryTooComplex, format, args...).
		WithDetails(map[string]any{"limit": limit, "max": max})
}

// documentLimits is the gqlgen extension that checks Limits. It runs as an operation
// parameter mutator, after the persisted-query extension has put the query text in place
// and before gqlgen parses and validates it, on every transport (GET, POST, WebSocket).
type documentLimits struct {
	limits Limits
	// cache is gqlgen's query cache. A query found there was checked when it was first
	// seen (gqlgen adds a document only after this extension passed it and validation
	// succeeded), so it is not parsed again here.
	cache graphql.Cache[*ast.QueryDocument]
	log   *slog.Logger
}

var (
	_ graphql.HandlerExtension          = documentLimits{}
	_ graphql.OperationParameterMutator = documentLimits{}
)

func (documentLimits) ExtensionName() string { return "DocumentLimits" }

func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (d documentLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	err := d.check(ctx, p)
	if err == nil {
		return nil
	}
	if e, ok := err.(*errs.Error); ok {
		d.log.DebugContext(ctx, "graphql request refused", "code", e.Code, "reason", e.Message)
		return refusal(e)
	}
	return err.(*gqlerror.Error)
}

// check returns an *errs.Error for a request over a limit or ended, a *gqlerror.Error
// for a document that does not parse, or nil.
func (d documentLimits) check(ctx context.Context, p *graphql.RawParams) error {
	if err := ctx.Err(); err != nil {
		return endedError(err)
	}
	l := d.limits
	if n := len(p.Query); n > l.MaxBytes {
		return tooComplex(limitSize, l.MaxBytes, "The query is %d bytes long; at most %d are allowed. Pass large values as variables.", n, l.MaxBytes)
	}
	if err := checkVariables(p.Variables, l); err != nil {
		return err
	}
	if _, ok := d.cache.Get(ctx, p.Query); ok {
		return nil
	}
	if err := countTokens(p.Query, l.MaxTokens); err != nil {
		return err
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, l.MaxTokens)
	if err != nil {
		// gqlgen would parse it again only to find the same error.
		g, ok := err.(*gqlerror.Error)
		if !ok {
			g = gqlerror.Wrap(err)
		}
		errcode.Set(g, errcode.ParseFailed)
		return g
	}
	return newCounter(doc, l).document()
}

// endedError is the refusal of a request whose context ended: the deadline passed or the
// client went away.
func endedError(err error) *errs.Error {
	return errs.Wrap(err, errs.Timeout, "The request took too long and was stopped. Try again.")
}

// countTokens refuses a query of more than max tokens without parsing it. Lexer errors
// are left to the parser, which reports them with their position.
func countTokens(query string, max int) error {
	lx := lexer.New(&ast.Source{Input: query})
	for n := 0; ; {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return nil
		}
		if tok.Kind == lexer.Comment {
			continue // the parser does not count comments either
		}
		if n++; n > max {
			return tooComplex(limitTokens, max, "The query has more than %d tokens; at most %d are allowed.", max, max)
		}
	}
}

// cost is what a selection set asks for, with the fragments it spreads expanded. Every
// count saturates just above its limit, so that a fragment spread 2^25 times costs no
// more to count than one spread twice.
type cost struct {
	selections, aliases, directives, values int
	depth, valueDepth                       int
}

// counter counts a document's cost, fragment by fragment, each fragment once.
type counter struct {
	limits    Limits
	doc       *ast.QueryDocument
	fragments map[string]*ast.FragmentDefinition
	memo      map[string]cost
	// visiting holds the fragments being counted, to notice a fragment that spreads
	// itself, which would otherwise never finish.
	visiting map[string]bool
	spread   map[string]bool
}

func newCounter(doc *ast.QueryDocument, l Limits) *counter {
	c := &counter{
		limits:    l,
		doc:       doc,
		fragments: make(map[string]*ast.FragmentDefinition, len(doc.Fragments)),
		memo:      make(map[string]cost, len(doc.Fragments)),
		visiting:  map[string]bool{},
		spread:    map[string]bool{},
	}
	for _, f := range doc.Fragments {
		if _, ok := c.fragments[f.Name]; !ok { // gqlparser also uses the first of a name
			c.fragments[f.Name] = f
		}
	}
	return c
}

// document checks the whole document: validation walks every operation, and every
// fragment, used or not.
func (c *counter) document() error {
	doc := c.doc
	var total cost
	for _, op := range doc.Operations {
		oc, err := c.operation(op)
		if err != nil {
			return err
		}
		if oc.depth > c.limits.MaxDepth {
			return tooComplex(limitDepth, c.limits.MaxDepth, "The query is nested more than %d levels deep; at most %d are allowed.", c.limits.MaxDepth, c.limits.MaxDepth)
		}
		total = c.add(total, oc)
		if err := c.over(total); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		fc, err := c.fragment(f.Name)
		if err != nil {
			return err
		}
		if !c.spread[f.Name] { // a fragment spread somewhere is already in its spreader's count
			total = c.add(total, fc)
			if err := c.over(total); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *counter) operation(op *ast.OperationDefinition) (cost, error) {
	oc, err := c.selectionSet(op.SelectionSet)
	if err != nil {
		return oc, err
	}
	oc.directives = c.sat(oc.directives+len(op.Directives), c.limits.MaxDirectives)
	for _, d := range op.Directives {
		oc = c.add(oc, c.arguments(d.Arguments))
	}
	for _, v := range op.VariableDefinitions {
		oc.directives = c.sat(oc.directives+len(v.Directives), c.limits.MaxDirectives)
		if v.DefaultValue != nil {
			oc = c.add(oc, c.value(v.DefaultValue))
		}
	}
	return oc, nil
}

// fragment returns the cost of a fragment's selection set, counted once per document.
func (c *counter) fragment(name string) (cost, error) {
	if fc, ok := c.memo[name]; ok {
		return fc, nil
	}
	f := c.fragments[name]
	if f == nil {
		return cost{}, nil // validation reports the unknown fragment
	}
	if c.visiting[name] {
		err := gqlerror.ErrorPosf(f.Position, "Cannot spread fragment %q within itself.", name)
		errcode.Set(err, errcode.ValidationFailed)
		return cost{}, err
	}
	c.visiting[name] = true
	fc, err := c.selectionSet(f.SelectionSet)
	delete(c.visiting, name)
	if err != nil {
		return fc, err
	}
	fc.directives = c.sat(fc.directives+len(f.Directives), c.limits.MaxDirectives)
	c.memo[name] = fc
	return fc, nil
}

func (c *counter) selectionSet(set ast.SelectionSet) (cost, error) {
	var sc cost
	for _, s := range set {
		var child cost
		var directives ast.DirectiveList
		switch s := s.(type) {
		case *ast.Field:
			sub, err := c.selectionSet(s.SelectionSet)
			if err != nil {
				return sc, err
			}
			child = sub
			child.depth = c.sat(sub.depth+1, c.limits.MaxDepth)
			if s.Name == "__schema" || s.Name == "__type" {
				// Introspection nests as deep as type references do (GraphiQL asks for
				// nine levels of ofType) and reads only the schema in memory; its size
				// still counts, and gqlparser's MaxIntrospectionDepth bounds its loops.
				child.depth = 1
			}
			if s.Alias != "" && s.Alias != s.Name {
				child.aliases = c.sat(child.aliases+1, c.limits.MaxAliases)
			}
			child = c.add(child, c.arguments(s.Arguments))
			directives = s.Directives
		case *ast.InlineFragment:
			sub, err := c.selectionSet(s.SelectionSet)
			if err != nil {
				return sc, err
			}
			child = sub
			directives = s.Directives
		case *ast.FragmentSpread:
			c.spread[s.Name] = true
			sub, err := c.fragment(s.Name)
			if err != nil {
				return sc, err
			}
			child = sub
			directives = s.Directives
		}
		child.selections = c.sat(child.selections+1, c.limits.MaxSelections)
		child.directives = c.sat(child.directives+len(directives), c.limits.MaxDirectives)
		for _, d := range directives {
			child = c.add(child, c.arguments(d.Arguments))
		}
		sc = c.add(sc, child)
		if err := c.over(sc); err != nil {
			return sc, err // stop early: the rest cannot make it smaller
		}
	}
	return sc, nil
}

func (c *counter) arguments(args ast.ArgumentList) cost {
	var ac cost
	for _, a := range args {
		ac = c.add(ac, c.value(a.Value))
	}
	return ac
}

// value counts a literal: one per value, lists and objects with their items.
func (c *counter) value(v *ast.Value) cost {
	if v == nil {
		return cost{}
	}
	vc := cost{values: 1}
	for _, ch := range v.Children {
		sub := c.value(ch.Value)
		vc.values = c.sat(vc.values+sub.values, c.limits.MaxValues)
		vc.valueDepth = max(vc.valueDepth, sub.valueDepth)
	}
	if v.Kind == ast.ListValue || v.Kind == ast.ObjectValue {
		vc.valueDepth = c.sat(vc.valueDepth+1, c.limits.MaxValueDepth)
	}
	return vc
}

// add is a+b for counts (saturating) and the larger of each depth.
func (c *counter) add(a, b cost) cost {
	l := c.limits
	return cost{
		selections: c.sat(a.selections+b.selections, l.MaxSelections),
		aliases:    c.sat(a.aliases+b.aliases, l.MaxAliases),
		directives: c.sat(a.directives+b.directives, l.MaxDirectives),
		values:     c.sat(a.values+b.values, l.MaxValues),
		depth:      max(a.depth, b.depth),
		valueDepth: max(a.valueDepth, b.valueDepth),
	}
}

// sat caps n just above limit: "more than limit" is all a refusal needs to say, and a
// count that stops growing cannot overflow however often a fragment is spread.
func (*counter) sat(n, limit int) int { return min(n, limit+1) }

// over returns the refusal for the first limit k exceeds, or nil. Selection depth is
// checked per operation instead, in document: a fragment's own depth is not what it adds
// where it is spread (inside __schema, nothing).
func (c *counter) over(k cost) error {
	l := c.limits
	switch {
	case k.selections > l.MaxSelections:
		return tooComplex(limitSelections, l.MaxSelections, "The query selects more than %d fields (fragments counted each time they are used); at most %d are allowed.", l.MaxSelections, l.MaxSelections)
	case k.aliases > l.MaxAliases:
		return tooComplex(limitAliases, l.MaxAliases, "The query has more than %d aliases; at most %d are allowed.", l.MaxAliases, l.MaxAliases)
	case k.directives > l.MaxDirectives:
		return tooComplex(limitDirectives, l.MaxDirectives, "The query has more than %d directives; at most %d are allowed.", l.MaxDirectives, l.MaxDirectives)
	case k.values > l.MaxValues:
		return tooComplex(limitValues, l.MaxValues, "The query's arguments hold more than %d values; at most %d are allowed. Pass large values as variables.", l.MaxValues, l.MaxValues)
	case k.valueDepth > l.MaxValueDepth:
		return tooComplex(limitValueDepth, l.MaxValueDepth, "An argument nests lists or objects more than %d levels deep; at most %d are allowed.", l.MaxValueDepth, l.MaxValueDepth)
	}
	return nil
}

// checkVariables bounds the request's variables as literals are bounded: the body limit
// lets 1 MiB of JSON through, and coercing it walks every value.
func checkVariables(vars map[string]any, l Limits) error {
	n := 0
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		if n++; n > l.MaxValues {
			return tooComplex(limitValues, l.MaxValues, "The variables hold more than %d values; at most %d are allowed.", l.MaxValues, l.MaxValues)
		}
		switch v := v.(type) {
		case map[string]any:
			if depth++; depth > l.MaxValueDepth {
				return tooComplex(limitValueDepth, l.MaxValueDepth, "A variable nests lists or objects more than %d levels deep; at most %d are allowed.", l.MaxValueDepth, l.MaxValueDepth)
			}
			for _, e := range v {
				if err := walk(e, depth); err != nil {
					return err
				}
			}
		case []any:
			if depth++; depth > l.MaxValueDepth {
				return tooComplex(limitValueDepth, l.MaxValueDepth, "A variable nests lists or objects more than %d levels deep; at most %d are allowed.", l.MaxValueDepth, l.MaxValueDepth)
			}
			for _, e := range v {
				if err := walk(e, depth); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, v := range vars {
		if err := walk(v, 0); err != nil {
			return err
		}
	}
	return nil
}

// complexityLimit is gqlgen's complexity limit with its refusal in this server's words:
// QUERY_TOO_COMPLEX naming the limit, like the limits checked before validation.
type complexityLimit struct{ *extension.ComplexityLimit }

func (c complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if err := c.ComplexityLimit.MutateOperationContext(ctx, oc); err == nil {
		return nil
	}
	st := extension.GetComplexityStats(graphql.WithOperationContext(ctx, oc))
	e := tooComplex(limitComplexity, st.ComplexityLimit, "The query's estimated complexity is %d; at most %d is allowed. Ask for smaller pages or fewer fields.", st.Complexity, st.ComplexityLimit)
	return refusal(e)
}

// refusal is e as gqlgen's request error, with the code already in its extensions, where
// gqlgen looks to choose the HTTP status.
func refusal(e *errs.Error) *gqlerror.Error {
	return &gqlerror.Error{Message: e.Message, Err: e, Extensions: extensions(e.Code, e.Details)}
}
