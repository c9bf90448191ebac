package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/vscard/vscard/graph/model"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// generatedRootAccess gives root fields that entgql generates without a directive their
// access. Every other root field must carry @access in the schema, or it is refused.
var generatedRootAccess = map[string][]model.Access{
	"node":  {model.AccessUser, model.AccessBridge},
	"nodes": {model.AccessUser, model.AccessBridge},
}

// checkAccess is the one place that decides whether the caller may use a root field. It
// runs before every Query, Mutation and Subscription root field; rows are then filtered
// by the ent privacy rules, so nested fields need no checks of their own.
func checkAccess(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return next(ctx)
	}
	name := fc.Field.Name
	switch name {
	case "__typename":
		return next(ctx)
	case "__schema", "__type":
		// introspectionFor decided. Refused here, as a refusal with its own code, rather
		// than by gqlgen's introspection resolver, whose plain error would be INTERNAL
		// and logged as a fault every time anyone asks.
		if graphql.GetOperationContext(ctx).DisableIntrospection {
			graphql.AddError(ctx, errs.New(errs.IntrospectionDisabled, "Schema introspection is open to administrators only."))
			return graphql.Null
		}
		return next(ctx)
	}
	allow, declared := allowedFor(fc.Field.Definition)
	if !declared {
		allow, declared = generatedRootAccess[name]
	}
	if err := mayCall(viewer.FromContext(ctx), allow, declared); err != nil {
		graphql.AddError(ctx, err)
		return graphql.Null
	}
	return next(ctx)
}

func allowedFor(def *ast.FieldDefinition) ([]model.Access, bool) {
	d := def.Directives.ForName("access")
	if d == nil {
		return nil, false
	}
	arg := d.Arguments.ForName("allow")
	if arg == nil || arg.Value == nil {
		return nil, true
	}
	var out []model.Access
	for _, c := range arg.Value.Children {
		out = append(out, model.Access(c.Value.Raw))
	}
	return out, true
}

// mayCall reports whether v may use a field open to allow.
func mayCall(v *viewer.Viewer, allow []model.Access, declared bool) error {
	if declared {
		for _, a := range allow {
			if admits(v, a) {
				return nil
			}
		}
	}
	if v == nil {
		return errs.New(errs.Unauthenticated, "Sign in first.")
	}
	return errs.New(errs.Forbidden, "You may not do this.")
}

func admits(v *viewer.Viewer, a model.Access) bool {
	switch a {
	case model.AccessAnonymous:
		// Portals hold a token for card status only: they get exactly the fields that
		// name PORTAL, not those open to everybody else.
		return v == nil || v.Kind != viewer.KindPortal
	case model.AccessUser:
		return v != nil && v.Kind == viewer.KindUser
	case model.AccessAdmin:
		return v.IsAdmin()
	case model.AccessOperator:
		return v.IsOperator()
	case model.AccessBridge:
		return v != nil && v.Kind == viewer.KindBridge
	case model.AccessPortal:
		return v != nil && v.Kind == viewer.KindPortal
	}
	return false
}

// accessDirective is the resolver of @access. The check itself happens in checkAccess,
// which also covers root fields without the directive; the directive is its declaration.
func accessDirective(ctx context.Context, _ any, next graphql.Resolver, _ []model.Access) (any, error) {
	return next(ctx)
}

// introspectionFor turns schema introspection off for everyone but administrators, unless
// the server allows it for all; checkAccess then refuses the introspection root fields.
func introspectionFor(allowAll bool) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if !allowAll && !viewer.FromContext(ctx).IsAdmin() {
			oc.DisableIntrospection = true
		}
		return next(ctx)
	}
}
