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
	AllowIntrospection bool
	// MaxComplexity bounds a query's cost (default 1000); MaxDepth its nesting (default 12).
	MaxComplexity int
	MaxDepth      int
}

// NewHandler returns the GraphQL endpoint: queries over GET and POST, mutations over POST
// only, subscriptions over WebSocket (graphql-transport-ws and graphql-ws).
func NewHandler(r *Resolver, o HandlerOptions) http.Handler {
	if o.MaxComplexity == 0 {
		o.MaxComplexity = 1000
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = 12
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
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetDisableSuggestion(true)
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(o.MaxComplexity))
	srv.AroundOperations(introspectionFor(o.AllowIntrospection))
	srv.AroundOperations(depthLimit(o.MaxDepth))
	srv.AroundRootFields(checkAccess)
	srv.AroundResponses(countRequests(r.Metrics))
	srv.SetErrorPresenter(presentError(r.Log))
	srv.SetRecoverFunc(recoverPanic(r.Log))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if auth.IsWebSocketUpgrade(req) && o.CheckOrigin != nil && !o.CheckOrigin(req) {
			http.Error(w, "WebSocket origin not allowed", http.StatusForbidden)
			return
		}
		srv.ServeHTTP(w, req)
	})
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

// depthLimit refuses operations nested deeper than max (introspection included: its
// fixed shape stays well within the default).
func depthLimit(max int) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation != nil {
			if d := depth(oc.Operation.SelectionSet, 0, max); d > max {
				return graphql.OneShot(graphql.ErrorResponse(ctx, "The query is nested %d levels deep; at most %d are allowed.", d, max))
			}
		}
		return next(ctx)
	}
}

func depth(set ast.SelectionSet, at, max int) int {
	deepest := at
	if at > max {
		return at
	}
	for _, s := range set {
		var d int
		switch s := s.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = at + 1
			} else {
				d = depth(s.SelectionSet, at+1, max)
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, at, max)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = depth(s.Definition.SelectionSet, at, max)
			}
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}
