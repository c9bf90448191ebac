package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	"github.com/vscard/vscard/ent/privacy"
	"github.com/vscard/vscard/server/viewer"
)

// The privacy rules below are the one place that decides which rows a caller can see. They
// run on every query ent makes, so top-level fields, node/nodes, edges and subscriptions
// are all covered by the same code. Writes are made by the domain packages (server/enroll,
// server/ca, ...) after their own checks, under viewer.AsServer: the one bypass, which
// every policy honours first and which keeps the caller for the audit log. (ent's own
// privacy.DecisionContext would bypass them too; it is not used outside generated code.)

// allowServer lets through what the server does on its own behalf (viewer.AsServer).
var allowServer = privacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if viewer.ActsAsServer(ctx) {
		return privacy.Allow
	}
	return privacy.Skip
})

// allowAdmins lets administrators through.
var allowAdmins = privacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if viewer.FromContext(ctx).IsAdmin() {
		return privacy.Allow
	}
	return privacy.Skip
})

// allowOperators lets operators (and so administrators) read: the help desk sees every
// person's rows, but writes, like everyone's, go through domain code under AsServer.
var allowOperators = privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error {
	if viewer.FromContext(ctx).IsOperator() {
		return privacy.Allow
	}
	return privacy.Skip
})

// denyAnonymous stops every request without a viewer.
var denyAnonymous = privacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if viewer.FromContext(ctx) == nil {
		return privacy.Denyf("no viewer")
	}
	return privacy.Skip
})

// filterByViewer narrows a query to the rows a user or a bridge session may see. forUser
// and forBridge add the entity's filter for a user id and an order id; a nil func denies.
func filterByViewer(
	forUser func(f privacy.Filter, userID string),
	forBridge func(f privacy.Filter, orderID string),
	portalMayRead bool,
) privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		switch {
		case v.Kind == viewer.KindUser && forUser != nil:
			forUser(f, v.UserID)
			return privacy.Allow
		case v.Kind == viewer.KindBridge && forBridge != nil:
			forBridge(f, v.OrderID)
			return privacy.Allow
		case v.Kind == viewer.KindPortal && portalMayRead:
			return privacy.Allow
		}
		return privacy.Denyf("viewer may not read this")
	})
}

// systemOnly is the policy of rows no request may touch directly.
func systemOnly() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{allowServer, privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{allowServer, privacy.AlwaysDenyRule()},
	}
}

// readOwnRows is the policy of the entities a user owns: administrators and the server see
// everything, operators too where operatorsMayRead; users and bridge sessions see their
// own; writes go through domain code.
func readOwnRows(forUser, forBridge func(privacy.Filter, string), portalMayRead, operatorsMayRead bool) ent.Policy {
	query := privacy.QueryPolicy{allowServer, denyAnonymous, allowAdmins}
	if operatorsMayRead {
		query = append(query, allowOperators)
	}
	return privacy.Policy{
		Query:    append(query, filterByViewer(forUser, forBridge, portalMayRead)),
		Mutation: privacy.MutationPolicy{allowServer, allowAdmins, privacy.AlwaysDenyRule()},
	}
}

// The generated entql filters of each entity implement these.
type (
	idFilter      interface{ WhereID(entql.StringP) }
	userIDFilter  interface{ WhereUserID(entql.StringP) }
	ownerIDFilter interface{ WhereOwnerID(entql.StringP) }
	orderIDFilter interface{ WhereOrderID(entql.StringP) }
	hasEdgeFilter interface{ Where(entql.P) }
)

func (User) Policy() ent.Policy {
	return readOwnRows(
		func(f privacy.Filter, uid string) { f.(idFilter).WhereID(entql.StringEQ(uid)) },
		func(f privacy.Filter, oid string) {
			f.(hasEdgeFilter).Where(entql.HasEdgeWith("orders", entql.FieldEQ("id", oid)))
		},
		false, true,
	)
}

func (Card) Policy() ent.Policy {
	return readOwnRows(
		func(f privacy.Filter, uid string) { f.(ownerIDFilter).WhereOwnerID(entql.StringEQ(uid)) },
		func(f privacy.Filter, oid string) { f.(orderIDFilter).WhereOrderID(entql.StringEQ(oid)) },
		true, true,
	)
}

func (Certificate) Policy() ent.Policy {
	return readOwnRows(
		func(f privacy.Filter, uid string) {
			f.(hasEdgeFilter).Where(entql.HasEdgeWith("order", entql.FieldEQ("user_id", uid)))
		},
		func(f privacy.Filter, oid string) { f.(orderIDFilter).WhereOrderID(entql.StringEQ(oid)) },
		true, true,
	)
}

func (Order) Policy() ent.Policy {
	return readOwnRows(
		func(f privacy.Filter, uid string) { f.(userIDFilter).WhereUserID(entql.StringEQ(uid)) },
		func(f privacy.Filter, oid string) { f.(idFilter).WhereID(entql.StringEQ(oid)) },
		false, true,
	)
}

func (AuditEvent) Policy() ent.Policy { return readOwnRows(nil, nil, false, true) }

// OptionScript is configuration: administrators only, not operators.
func (OptionScript) Policy() ent.Policy { return readOwnRows(nil, nil, false, false) }

func (Session) Policy() ent.Policy { return systemOnly() }

func (CaRecord) Policy() ent.Policy { return systemOnly() }
