package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/vscard/vscard/graph/generated"
	"github.com/vscard/vscard/server/auth"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/metrics"
)

// HandlerOptions configure the GraphQL endpoint.
type HandlerOptions struct {
	// CheckOrigin accepts or refuses a WebSocket upgrade.
	CheckOrigin func(r *http.Request) bool
	// WebsocketInit authenticates a WebSocket connection from its connection_init payload.
	WebsocketInit transport.WebsocketInitFunc
	// AllowIntrospection opens schema introspection to everyone (default: admins only).
	// Without it, validation errors carry no "Did you mean" suggestions either, for
	// anyone: they would name the fields, arguments, enum values and input fields that
	// introspection hides.
	AllowIntrospection bool
	// Limits bound what one request may ask for; zero fields take DefaultLimits.
	Limits Limits
	// RequestTimeout ends a query or mutation that runs longer (default 30s).
	// Subscriptions run as long as their connection.
	RequestTimeout time.Duration
}

// DefaultRequestTimeout is HandlerOptions.RequestTimeout's default.
const DefaultRequestTimeout = 30 * time.Second

// NewHandler returns the GraphQL endpoint: queries over GET and POST, mutations over POST
// only, subscriptions over WebSocket (graphql-transport-ws and graphql-ws).
func NewHandler(r *Resolver, o HandlerOptions) http.Handler {
	limits := o.Limits.withDefaults()
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{
		Resolvers:  r,
		Directives: generated.DirectiveRoot{Access: accessDirective},
	}))
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		// The origin was checked below, against the configured origins, before the upgrade.
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{InsecureSkipVerify: true},
		},
		InitFunc:    o.WebsocketInit,
		InitTimeout: 10 * time.Second,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{}) // gqlgen refuses mutations over GET
	srv.AddTransport(transport.POST{})
	queryCache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(queryCache)
	// documentLimits counts tokens first; this is the same bound in gqlgen's own parse.
	srv.SetParserTokenLimit(limits.MaxTokens)
	// gqlgen's switch covers two of the rules that suggest names; the others are swapped
	// here (TestNoSuggestionsWithoutIntrospection tries every kind).
	srv.SetDisableSuggestion(!o.AllowIntrospection)
	if !o.AllowIntrospection {
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	// After the persisted-query extension, which puts the query text in place.
	srv.Use(documentLimits{limits: limits, cache: queryCache, log: r.Log})
	srv.Use(complexityLimit{extension.FixedComplexityLimit(limits.MaxComplexity)})
	srv.AroundOperations(introspectionFor(o.AllowIntrospection))
	srv.AroundOperations(withAuditLabels)
	srv.AroundRootFields(checkAccess)
	srv.AroundResponses(countRequests(r.Metrics))
	srv.SetErrorPresenter(presentError(r.Log))
	srv.SetRecoverFunc(recoverPanic(r.Log))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if auth.IsWebSocketUpgrade(req) {
			if o.CheckOrigin != nil && !o.CheckOrigin(req) {
				http.Error(w, "WebSocket origin not allowed", http.StatusForbidden)
				return
			}
			srv.ServeHTTP(w, req)
			return
		}
		// The request's context already ends when the client goes away; the deadline
		// also ends a client that stays.
		ctx, cancel := context.WithTimeout(req.Context(), o.RequestTimeout)
		defer cancel()
		srv.ServeHTTP(w, req.WithContext(ctx))
	})
}

// rulesWithoutSuggestions is gqlparser's rule set with every rule that can suggest a
// name replaced by its variant that does not. gqlgen swaps FieldsOnCorrectType and
// ScalarLeafs itself (SetDisableSuggestion) but leaves these three.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, swap := range []struct {
		name string
		rule core.Rule
	}{
		{rules.KnownArgumentNamesRule.Name, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.KnownTypeNamesRule.Name, rules.KnownTypeNamesRuleWithoutSuggestions},
		{rules.ValuesOfCorrectTypeRule.Name, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.RemoveRule(swap.name)
		r.AddRule(swap.rule.Name, swap.rule.RuleFunc)
	}
	return r
}

// countRequests counts each query's and mutation's response, by operation type, first
// root field and outcome (OK, or the first error's code); a request refused before it
// was parsed counts with an empty type and field. Subscriptions are counted as they open
// and close, in followOrder.
func countRequests(m *metrics.Metrics) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if m == nil || !graphql.HasOperationContext(ctx) {
			return resp
		}
		oc := graphql.GetOperationContext(ctx)
		kind, field := "", ""
		if op := oc.Operation; op != nil {
			if op.Operation == ast.Subscription {
				return resp
			}
			kind = string(op.Operation)
			for _, s := range op.SelectionSet {
				if f, ok := s.(*ast.Field); ok {
					field = f.Name
					break
				}
			}
		}
		outcome := "OK"
		if resp != nil && len(resp.Errors) > 0 {
			outcome = string(errs.Internal)
			if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
				outcome = code
			}
		}
		m.Request(kind, field, outcome, time.Since(oc.Stats.OperationStart))
		return resp
	}
}
