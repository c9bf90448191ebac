package options

// The rewriter changes a parsed script so that every operation that can allocate much, compare
// or hash calls a guard (guards.go) instead of running directly.

import (
	"fmt"
	"strconv"

	"go.starlark.net/syntax"
)

// The guards' names contain a middle dot, which is not an identifier character: a script
// cannot call, shadow or redefine them.
const (
	attrGuard   = "·attr"
	keyGuard    = "·key"
	sliceGuard  = "·slice"
	spreadGuard = "·spread"
)

func binopGuard(op syntax.Token) string { return "·" + op.String() }
func augGuard(op syntax.Token) string   { return "·" + op.String() + "=" }

// meteredOps are the binary operators that build new values.
var meteredOps = []syntax.Token{
	syntax.PLUS, syntax.MINUS, syntax.STAR, syntax.SLASH, syntax.SLASHSLASH, syntax.PERCENT,
	syntax.PIPE, syntax.AMP, syntax.CIRCUMFLEX, syntax.LTLT, syntax.GTGT,
}

// comparedOps are the operators that compare or hash their operands.
var comparedOps = []syntax.Token{
	syntax.EQL, syntax.NEQ, syntax.LT, syntax.LE, syntax.GT, syntax.GE, syntax.IN, syntax.NOT_IN,
}

// augOps maps an augmented assignment to its binary operator.
var augOps = map[syntax.Token]syntax.Token{
	syntax.PLUS_EQ: syntax.PLUS, syntax.MINUS_EQ: syntax.MINUS, syntax.STAR_EQ: syntax.STAR,
	syntax.SLASH_EQ: syntax.SLASH, syntax.SLASHSLASH_EQ: syntax.SLASHSLASH,
	syntax.PERCENT_EQ: syntax.PERCENT, syntax.PIPE_EQ: syntax.PIPE, syntax.AMP_EQ: syntax.AMP,
	syntax.CIRCUMFLEX_EQ: syntax.CIRCUMFLEX, syntax.LTLT_EQ: syntax.LTLT, syntax.GTGT_EQ: syntax.GTGT,
}

// rewriter routes the costly operations of a parsed file through the guards. It runs before
// the resolver, so the guards resolve as predeclared names.
type rewriter struct{ errs ScriptErrors }

func (r *rewriter) fail(pos syntax.Position, msg string) {
	r.errs = append(r.errs, ScriptError{Line: int(pos.Line), Column: int(pos.Col), Message: msg})
}

func (r *rewriter) stmts(list []syntax.Stmt) {
	for _, s := range list {
		r.stmt(s)
	}
}

func (r *rewriter) stmt(s syntax.Stmt) {
	switch s := s.(type) {
	case *syntax.AssignStmt:
		// x op= y keeps its in-place meaning for lists; the guard only looks at x and y and
		// returns y. x is evaluated twice, so it must be free of calls.
		op, aug := augOps[s.Op]
		lhs, cloned := cloneTarget(s.LHS)
		r.target(s.LHS)
		s.RHS = r.expr(s.RHS)
		if aug {
			if !cloned {
				r.fail(s.OpPos, fmt.Sprintf("%s is not supported on a target that calls a function: assign the result with = instead", s.Op))
				return
			}
			s.RHS = guardCall(augGuard(op), s.OpPos, r.expr(lhs), s.RHS)
		}
	case *syntax.ExprStmt:
		s.X = r.expr(s.X)
	case *syntax.ReturnStmt:
		if s.Result != nil {
			s.Result = r.expr(s.Result)
		}
	case *syntax.IfStmt:
		s.Cond = r.expr(s.Cond)
		r.stmts(s.True)
		r.stmts(s.False)
	case *syntax.ForStmt:
		r.target(s.Vars)
		s.X = r.expr(s.X)
		r.stmts(s.Body)
	case *syntax.WhileStmt:
		s.Cond = r.expr(s.Cond)
		r.stmts(s.Body)
	case *syntax.DefStmt:
		r.params(s.Params)
		r.stmts(s.Body)
	}
}

// params rewrites default values, never the parameter names.
func (r *rewriter) params(params []syntax.Expr) {
	for _, p := range params {
		if b, ok := p.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			b.Y = r.expr(b.Y)
		}
	}
}

// target rewrites the expressions evaluated inside an assignment target, not the target.
func (r *rewriter) target(e syntax.Expr) {
	switch e := e.(type) {
	case *syntax.ParenExpr:
		r.target(e.X)
	case *syntax.TupleExpr:
		for _, x := range e.List {
			r.target(x)
		}
	case *syntax.ListExpr:
		for _, x := range e.List {
			r.target(x)
		}
	case *syntax.IndexExpr:
		e.X = r.expr(e.X)
		e.Y = guardCall(keyGuard, e.Lbrack, r.expr(e.Y))
	case *syntax.DotExpr:
		e.X = r.expr(e.X)
	}
}

func (r *rewriter) expr(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.BinaryExpr:
		e.X = r.expr(e.X)
		e.Y = r.expr(e.Y)
		for _, op := range append(meteredOps, comparedOps...) {
			if e.Op == op {
				return guardCall(binopGuard(op), e.OpPos, e.X, e.Y)
			}
		}
	case *syntax.UnaryExpr:
		if e.X != nil {
			e.X = r.expr(e.X)
		}
	case *syntax.CallExpr:
		e.Fn = r.expr(e.Fn)
		for i, a := range e.Args {
			switch a := a.(type) {
			case *syntax.BinaryExpr:
				if a.Op == syntax.EQ { // name=value
					a.Y = r.expr(a.Y)
					continue
				}
			case *syntax.UnaryExpr:
				if a.Op == syntax.STAR || a.Op == syntax.STARSTAR {
					a.X = guardCall(spreadGuard, a.OpPos, r.expr(a.X))
					continue
				}
			}
			e.Args[i] = r.expr(a)
		}
	case *syntax.DotExpr:
		e.X = r.expr(e.X)
		if guardedAttr(e.Name.Name) {
			name := &syntax.Literal{Token: syntax.STRING, TokenPos: e.NamePos, Raw: strconv.Quote(e.Name.Name), Value: e.Name.Name}
			return guardCall(attrGuard, e.Dot, e.X, name)
		}
	case *syntax.SliceExpr:
		none := func(x syntax.Expr) syntax.Expr {
			if x == nil {
				return &syntax.Ident{NamePos: e.Lbrack, Name: "None"}
			}
			return r.expr(x)
		}
		return guardCall(sliceGuard, e.Lbrack, r.expr(e.X), none(e.Lo), none(e.Hi), none(e.Step))
	case *syntax.IndexExpr:
		e.X = r.expr(e.X)
		e.Y = guardCall(keyGuard, e.Lbrack, r.expr(e.Y))
	case *syntax.ParenExpr:
		e.X = r.expr(e.X)
	case *syntax.CondExpr:
		e.Cond = r.expr(e.Cond)
		e.True = r.expr(e.True)
		e.False = r.expr(e.False)
	case *syntax.TupleExpr:
		r.list(e.List)
	case *syntax.ListExpr:
		r.list(e.List)
	case *syntax.DictExpr:
		for _, x := range e.List {
			r.entry(x.(*syntax.DictEntry))
		}
	case *syntax.Comprehension:
		if entry, ok := e.Body.(*syntax.DictEntry); ok {
			r.entry(entry)
		} else {
			e.Body = r.expr(e.Body)
		}
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				r.target(c.Vars)
				c.X = r.expr(c.X)
			case *syntax.IfClause:
				c.Cond = r.expr(c.Cond)
			}
		}
	case *syntax.LambdaExpr:
		r.params(e.Params)
		e.Body = r.expr(e.Body)
	}
	return e
}

func (r *rewriter) list(l []syntax.Expr) {
	for i, x := range l {
		l[i] = r.expr(x)
	}
}

func (r *rewriter) entry(e *syntax.DictEntry) {
	e.Key = guardCall(keyGuard, e.Colon, r.expr(e.Key))
	e.Value = r.expr(e.Value)
}

// guardCall builds name(args...) positioned at pos, where the original operation's errors
// were reported.
func guardCall(name string, pos syntax.Position, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: &syntax.Ident{NamePos: pos, Name: name}, Lparen: pos, Args: args, Rparen: pos}
}

// cloneTarget copies an augmented-assignment target for its second evaluation. It refuses
// targets with calls (or comprehensions and lambdas, which may call), whose second evaluation
// could differ from the first.
func cloneTarget(e syntax.Expr) (syntax.Expr, bool) {
	list := func(l []syntax.Expr) ([]syntax.Expr, bool) {
		out := make([]syntax.Expr, len(l))
		for i, x := range l {
			var ok bool
			if out[i], ok = cloneTarget(x); !ok {
				return nil, false
			}
		}
		return out, true
	}
	switch e := e.(type) {
	case *syntax.Ident:
		return &syntax.Ident{NamePos: e.NamePos, Name: e.Name}, true
	case *syntax.Literal:
		c := *e
		return &c, true
	case *syntax.ParenExpr:
		return cloneTarget(e.X)
	case *syntax.IndexExpr:
		l, ok := list([]syntax.Expr{e.X, e.Y})
		if !ok {
			return nil, false
		}
		return &syntax.IndexExpr{X: l[0], Lbrack: e.Lbrack, Y: l[1], Rbrack: e.Rbrack}, true
	case *syntax.DotExpr:
		x, ok := cloneTarget(e.X)
		return &syntax.DotExpr{X: x, Dot: e.Dot, NamePos: e.NamePos, Name: &syntax.Ident{NamePos: e.Name.NamePos, Name: e.Name.Name}}, ok
	case *syntax.TupleExpr:
		l, ok := list(e.List)
		return &syntax.TupleExpr{Lparen: e.Lparen, List: l, Rparen: e.Rparen}, ok
	case *syntax.ListExpr:
		l, ok := list(e.List)
		return &syntax.ListExpr{Lbrack: e.Lbrack, List: l, Rbrack: e.Rbrack}, ok
	case *syntax.UnaryExpr:
		x, ok := cloneTarget(e.X)
		return &syntax.UnaryExpr{OpPos: e.OpPos, Op: e.Op, X: x}, ok
	case *syntax.BinaryExpr:
		l, ok := list([]syntax.Expr{e.X, e.Y})
		if !ok {
			return nil, false
		}
		return &syntax.BinaryExpr{X: l[0], OpPos: e.OpPos, Op: e.Op, Y: l[1]}, true
	}
	return nil, false
}

// guardedAttr reports whether x.name goes through the attribute guard: a method with an entry
// in methodCosts, or one of a built-in type without an entry in freeMethods (which the guard
// refuses). Field names of user and env, and free methods, stay direct.
func guardedAttr(name string) bool {
	_, costed := methodCosts[name]
	return costed || builtinMethods()[name] && !freeMethods[name]
}
