// Package graph is vscard's GraphQL API: the schema (*.graphqls), thin resolvers that check
// who asks and call the domain packages, the access directive, and the error presenter.
// gqlgen and entgql generate the rest (graph/generated, graph/model, graph/ent.graphqls).
package graph

import (
	"log/slog"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/metrics"
	"github.com/vscard/vscard/server/scripts"
)

// Resolver holds what the resolvers need. Create it with the server's dependencies.
type Resolver struct {
	DB      *ent.Client
	Enroll  *enroll.Engine
	Scripts *scripts.Store
	CA      ca.Authority
	Events  events.Bus
	Log     *slog.Logger
	// Metrics counts requests and subscriptions; nil counts nothing.
	Metrics *metrics.Metrics
	// Now is the server's clock (server.Config.Now); nil is time.Now.
	Now func() time.Time
}

// now reads the server's clock.
func (r *Resolver) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}
