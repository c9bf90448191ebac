package options

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/vscard/vscard/server/cardspec"
)

// Starlark counts steps but not memory: one operation such as "a" * 1000000000 or
// list(range(100000000)) allocates gigabytes in a single step. The sandbox therefore meters
// every operation that can make a value much larger than its operands, before it runs:
//
//   - binary operators (+ * % | ...) and their augmented forms (+= ...) are rewritten into
//     calls of guard builtins that charge the size of the result against a byte budget;
//   - slices, *args/**kwargs spreading and the methods that copy or multiply (join, replace,
//     format, split, extend, ...) are routed through guards as well;
//   - the universal builtins (list, sorted, str, max, ...) are shadowed by wrappers that
//     charge the values they build and count the elements they iterate as steps.
//
// The budget is cumulative: it bounds everything a script allocates, not only what it keeps,
// which is simple to reason about and far above what an option script needs.
//
// Comparing and hashing need a guard of their own: values may share structure
// (t = (t, t) forty times is a few steps), and == or a dict lookup walks every path through
// them, exponentially many. Comparisons, dict keys and the builtins and methods that compare
// or hash therefore first count the nodes of their operands, visiting each shared part once,
// and refuse values of more than maxNodes. With every single operation bounded, the
// wall-clock limit bounds the whole run.

// limit names the limit that ended a run.
type limit int32

const (
	noLimit limit = iota
	stepLimit
	memoryLimit
	timeLimit
	canceled
)

// Sizes charged per element: an interface value in a list or tuple, an entry in a hash table.
const (
	wordSize  = 16
	entrySize = 64
	// maxIntBits bounds integers built by * and <<: multiplying huge integers takes long
	// inside one step, where neither the step nor the time limit can stop it.
	maxIntBits = 1 << 16
	// maxIntDigits bounds int("...") for the same reason (the limit Python uses).
	maxIntDigits = 4300
	// maxNodes bounds the values compared or hashed, counting shared parts at each use.
	maxNodes = 100_000
)

const meterKey = "vscard.options.meter"

// meter accounts one run's steps and allocations. Guards run on the script's goroutine; only
// stop is shared with the goroutine that enforces the time limit.
type meter struct {
	maxSteps uint64
	maxBytes int64
	bytes    int64
	stop     atomic.Int32 // the first limit that ended the run
}

var errLimit = errors.New("the script exceeded a limit")

func meterOf(t *starlark.Thread) *meter { return t.Local(meterKey).(*meter) }

// stopped records why the run ends; the first reason wins.
func (m *meter) stopped(l limit) { m.stop.CompareAndSwap(int32(noLimit), int32(l)) }

func (m *meter) reason() limit { return limit(m.stop.Load()) }

// budget returns the bytes the script may still allocate.
func (m *meter) budget() int64 { return m.maxBytes - m.bytes }

// alloc charges n bytes, refusing before the allocation happens.
func (m *meter) alloc(n int64) error {
	if n < 0 || n > m.maxBytes-m.bytes {
		m.stopped(memoryLimit)
		return errLimit
	}
	m.bytes += n
	return nil
}

// work counts n elements a builtin iterates as n steps.
func (m *meter) work(t *starlark.Thread, n int64) error {
	if n < 0 {
		return nil
	}
	if uint64(n) >= m.maxSteps || t.Steps+uint64(n) >= m.maxSteps {
		m.stopped(stepLimit)
		return errLimit
	}
	t.Steps += uint64(n)
	return nil
}

func (m *meter) charge(t *starlark.Thread, c cost) error {
	if c.err != nil {
		return c.err
	}
	if err := m.alloc(c.bytes); err != nil {
		return err
	}
	return m.work(t, c.steps)
}

// cost is what an operation is about to spend; err refuses it outright.
type cost struct {
	bytes, steps int64
	err          error
}

// ---- rewriting ---------------------------------------------------------------------------

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
		if _, ok := methodCosts[e.Name.Name]; ok {
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

// ---- guards ------------------------------------------------------------------------------

// sandbox returns the names a script sees besides its own: the vscard constants, the
// universal builtins behind their meters, and the guards the rewriter calls. It is built once;
// every value in it is immutable.
var sandbox = sync.OnceValue(func() starlark.StringDict {
	d := starlark.StringDict{}
	for _, s := range []string{
		string(cardspec.Allowed), string(cardspec.Required), string(cardspec.Disallowed),
		string(cardspec.Authentication), string(cardspec.Signature), string(cardspec.Encryption),
		string(cardspec.ECCP256), string(cardspec.ECCP384), string(cardspec.RSA2048),
	} {
		d[s] = starlark.String(s)
	}
	for name, v := range starlark.Universe {
		if b, ok := v.(*starlark.Builtin); ok {
			d[name] = meteredBuiltin(b, builtinCosts[name])
		}
	}
	d["getattr"] = starlark.NewBuiltin("getattr", getattrGuard)
	d["int"] = starlark.NewBuiltin("int", intGuard)
	for _, op := range meteredOps {
		d[binopGuard(op)] = starlark.NewBuiltin(op.String(), binop(op))
		d[augGuard(op)] = starlark.NewBuiltin(op.String()+"=", augmented(op))
	}
	for _, op := range comparedOps {
		d[binopGuard(op)] = starlark.NewBuiltin(op.String(), compare(op))
	}
	d[keyGuard] = starlark.NewBuiltin("key", key)
	d[attrGuard] = starlark.NewBuiltin("getattr", attr)
	d[sliceGuard] = starlark.NewBuiltin("slice", slice)
	d[spreadGuard] = starlark.NewBuiltin("spread", spread)
	d.Freeze()
	return d
})

// binop computes x op y after charging its result.
func binop(op syntax.Token) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		x, y := args[0], args[1]
		m := meterOf(t)
		c, err := binopCost(m.budget(), op, x, y, false)
		if err != nil {
			return nil, err
		}
		if err := m.charge(t, c); err != nil {
			return nil, err
		}
		return starlark.Binary(op, x, y)
	}
}

// compare computes x op y for the comparison and membership operators after counting nodes.
func compare(op syntax.Token) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		x, y := args[0], args[1]
		if err := checkNodes(x, y); err != nil {
			return nil, err
		}
		if op == syntax.IN || op == syntax.NOT_IN {
			return starlark.Binary(op, x, y)
		}
		ok, err := starlark.Compare(op, x, y)
		return starlark.Bool(ok), err
	}
}

// key passes an index or dict key through after counting its nodes: hashing a tuple visits
// every path through it.
func key(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	return args[0], checkNodes(args[0])
}

// checkNodes refuses values too large to compare or hash in one step.
func checkNodes(values ...starlark.Value) error {
	for _, v := range values {
		if nodes(v, maxNodes) > maxNodes {
			return fmt.Errorf("a value with more than %d nested elements cannot be compared or used as a key (shared elements count at each use)", maxNodes)
		}
	}
	return nil
}

// nodes counts the elements of v at every nesting level, shared ones at each use, stopping
// past limit. Each distinct container is walked once, so the count costs at most what the
// script allocated.
func nodes(v starlark.Value, limit int64) int64 {
	var memo map[any]int64
	var count func(v starlark.Value) int64
	count = func(v starlark.Value) int64 {
		var id any
		switch v := v.(type) {
		case starlark.Tuple:
			if len(v) == 0 {
				return 1
			}
			id = &v[0] // a tuple's identity is its backing array
		case *starlark.List, *starlark.Dict, *starlark.Set:
			id = v
		default:
			return 1
		}
		if memo == nil {
			memo = map[any]int64{}
		}
		if n, ok := memo[id]; ok {
			return n
		}
		memo[id] = 1 // a cycle back to v counts once
		n := int64(1)
		iter := starlark.Iterate(v)
		var x starlark.Value
		for n <= limit && iter.Next(&x) {
			n = addSat(n, count(x))
			if d, ok := v.(*starlark.Dict); ok {
				val, _, _ := d.Get(x)
				n = addSat(n, count(val))
			}
		}
		iter.Done()
		memo[id] = n
		return n
	}
	return count(v)
}

// compared wraps a cost with a node count of the receiver and arguments, for the builtins and
// methods that compare or hash them.
func compared(costOf costFunc) costFunc {
	return func(budget int64, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) cost {
		c := cost{}
		if costOf != nil {
			c = costOf(budget, recv, args, kwargs)
		}
		if recv != nil {
			args = append(starlark.Tuple{recv}, args...)
		}
		for _, kv := range kwargs {
			args = append(args, kv[1])
		}
		if err := checkNodes(args...); err != nil {
			c.err = err
		}
		return c
	}
}

// augmented charges x op= y and returns y for the assignment to apply.
func augmented(op syntax.Token) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		m := meterOf(t)
		c, err := binopCost(m.budget(), op, args[0], args[1], true)
		if err != nil {
			return nil, err
		}
		return args[1], m.charge(t, c)
	}
}

// binopCost estimates x op y from its operands, before computing it.
func binopCost(budget int64, op syntax.Token, x, y starlark.Value, inPlace bool) (cost, error) {
	xi, xInt := x.(starlark.Int)
	yi, yInt := y.(starlark.Int)
	switch {
	case op == syntax.STAR && xInt && yInt:
		if bits := bitLen(xi) + bitLen(yi); bits > maxIntBits {
			return cost{}, fmt.Errorf("integer too large: the product would have %d bits, at most %d are allowed", bits, maxIntBits)
		}
	case op == syntax.STAR && (xInt || yInt):
		seq, n := x, yi
		if xInt {
			seq, n = y, xi
		}
		count, ok := n.Int64()
		if !ok {
			count = math.MaxInt64
		}
		return cost{bytes: mulSat(size(seq), count)}, nil
	case op == syntax.LTLT && xInt && yInt:
		if shift, ok := yi.Int64(); ok && shift > 0 && int64(bitLen(xi))+shift > maxIntBits {
			return cost{}, fmt.Errorf("integer too large: the shift would give %d bits, at most %d are allowed", int64(bitLen(xi))+shift, maxIntBits)
		}
	case op == syntax.PERCENT:
		if s, ok := x.(starlark.String); ok {
			// Each conversion in the format may print all of y.
			n := int64(strings.Count(string(s), "%"))
			return cost{bytes: int64(len(s)) + mulSat(n, strSize(y, budget)), steps: n}, nil
		}
	}
	if _, ok := x.(*starlark.List); ok && inPlace && op == syntax.PLUS {
		return cost{bytes: 2 * size(y)}, nil // extends x in place, growing it as append does
	}
	return cost{bytes: addSat(size(x), size(y))}, nil
}

// intGuard is int(x[, base]) refusing long digit strings: parsing them takes quadratic time
// inside one step.
func intGuard(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		if s, ok := args[0].(starlark.String); ok && len(s) > maxIntDigits {
			return nil, fmt.Errorf("int: a string of %d characters is too long to convert (at most %d)", len(s), maxIntDigits)
		}
	}
	return starlark.Universe["int"].(*starlark.Builtin).CallInternal(t, args, kwargs)
}

// attr is x.name for the methods in methodCosts: the bound method comes back metered.
func attr(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	x, name := args[0], string(args[1].(starlark.String))
	v, err := getAttr(x, name)
	if err != nil {
		return nil, err
	}
	return meteredMethod(v, name), nil
}

func getAttr(x starlark.Value, name string) (starlark.Value, error) {
	if x, ok := x.(starlark.HasAttrs); ok {
		v, err := x.Attr(name)
		if err != nil || v != nil {
			return v, err
		}
	}
	return nil, starlark.NoSuchAttrError(fmt.Sprintf("%s has no .%s field or method", x.Type(), name))
}

// getattrGuard is getattr(x, name[, default]) returning metered methods.
func getattrGuard(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	v, err := starlark.Universe["getattr"].(*starlark.Builtin).CallInternal(t, args, kwargs)
	if err != nil {
		return nil, err
	}
	if len(args) > 1 {
		if name, ok := args[1].(starlark.String); ok {
			return meteredMethod(v, string(name)), nil
		}
	}
	return v, nil
}

func meteredMethod(v starlark.Value, name string) starlark.Value {
	m, ok := v.(*starlark.Builtin)
	costOf := methodCosts[name]
	if !ok || m.Receiver() == nil || costOf == nil {
		return v
	}
	return starlark.NewBuiltin(name, func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mt := meterOf(t)
		if err := mt.charge(t, costOf(mt.budget(), m.Receiver(), args, kwargs)); err != nil {
			return nil, err
		}
		return m.CallInternal(t, args, kwargs)
	})
}

// slice is x[lo:hi:step], charged after the fact: a slice is never larger than x.
func slice(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	x, lo, hi, stepV := args[0], args[1], args[2], args[3]
	s, ok := x.(starlark.Sliceable)
	if !ok {
		return nil, fmt.Errorf("invalid slice operand %s", x.Type())
	}
	n := s.Len()
	step := 1
	if stepV != starlark.None {
		var err error
		if step, err = starlark.AsInt32(stepV); err != nil {
			return nil, fmt.Errorf("invalid slice step: %s", err)
		}
		if step == 0 {
			return nil, fmt.Errorf("zero is not a valid slice step")
		}
	}
	index := func(v starlark.Value, def int, what string) (int, error) {
		if v == starlark.None {
			return def, nil
		}
		i, err := starlark.AsInt32(v)
		if err != nil {
			return 0, fmt.Errorf("invalid %s index: %s", what, err)
		}
		if i < 0 {
			i += n
		}
		return i, nil
	}
	start, err := index(lo, 0, "start")
	if step < 0 {
		start, err = index(lo, n-1, "start")
	}
	if err != nil {
		return nil, err
	}
	end, err := index(hi, n, "end")
	if step < 0 {
		end, err = index(hi, -1, "end")
	}
	if err != nil {
		return nil, err
	}
	if step > 0 {
		start, end = min(max(start, 0), n), min(max(end, 0), n)
		end = max(end, start)
	} else {
		start, end = min(start, n-1), max(end, -1)
		start = max(start, end)
	}
	v := s.Slice(start, end, step)
	return v, meterOf(t).charge(t, cost{bytes: size(v), steps: int64(starlark.Len(v))})
}

// spread charges the copy that f(*x) and f(**x) make of x.
func spread(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	n := int64(max(0, starlark.Len(args[0])))
	return args[0], meterOf(t).charge(t, cost{bytes: n * entrySize, steps: n})
}

// costFunc estimates a call before it runs. budget is the bytes left: estimates that walk
// values stop once they pass it.
type costFunc func(budget int64, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) cost

func meteredBuiltin(b *starlark.Builtin, costOf costFunc) *starlark.Builtin {
	if costOf == nil {
		return b
	}
	return starlark.NewBuiltin(b.Name(), func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		m := meterOf(t)
		if err := m.charge(t, costOf(m.budget(), nil, args, kwargs)); err != nil {
			return nil, err
		}
		return b.CallInternal(t, args, kwargs)
	})
}

// perElement charges each element of the arguments' iterables as a step and per bytes.
func perElement(bytes int64) costFunc {
	return func(_ int64, _ starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) cost {
		var n int64
		for _, a := range args {
			n += int64(max(0, starlark.Len(a)))
		}
		n += int64(len(kwargs))
		return cost{bytes: mulSat(n, bytes), steps: n}
	}
}

// printed charges the text str/repr/print/fail/format produce from their arguments.
func printed(budget int64, _ starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) cost {
	var c cost
	for _, a := range args {
		c.bytes = addSat(c.bytes, strSize(a, budget))
	}
	for _, kv := range kwargs {
		c.bytes = addSat(c.bytes, strSize(kv[1], budget))
	}
	return c
}

var builtinCosts = map[string]costFunc{
	"list": perElement(wordSize), "tuple": perElement(wordSize),
	"reversed": perElement(wordSize), "enumerate": perElement(3 * wordSize), "zip": perElement(3 * wordSize),
	"dict": compared(perElement(entrySize)), "set": compared(perElement(entrySize)), "bytes": perElement(1),
	"max": compared(perElement(0)), "min": compared(perElement(0)), "any": perElement(0), "all": perElement(0),
	"hash": compared(perElement(0)), "sorted": compared(perElement(wordSize)),
	"str": printed, "repr": printed, "print": printed, "fail": printed,
}

// methodCosts lists the methods that copy or multiply their receiver or arguments.
var methodCosts = map[string]costFunc{
	"join": func(_ int64, recv starlark.Value, args starlark.Tuple, _ []starlark.Tuple) cost {
		if len(args) != 1 {
			return cost{}
		}
		sep := int64(len(asString(recv)))
		var c cost
		if l, ok := args[0].(starlark.Indexable); ok {
			for i := range l.Len() {
				c.bytes = addSat(c.bytes, int64(len(asString(l.Index(i))))+sep)
			}
			c.steps = int64(l.Len())
		}
		return c
	},
	"replace": func(_ int64, recv starlark.Value, args starlark.Tuple, _ []starlark.Tuple) cost {
		s := asString(recv)
		if len(args) < 2 {
			return cost{}
		}
		old, repl := asString(args[0]), asString(args[1])
		n := int64(strings.Count(s, old))
		return cost{bytes: int64(len(s)) + mulSat(n, int64(max(0, len(repl)-len(old))))}
	},
	"format": func(budget int64, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) cost {
		// Each field may print the largest argument.
		var largest int64
		for _, a := range args {
			largest = max(largest, strSize(a, budget))
		}
		for _, kv := range kwargs {
			largest = max(largest, strSize(kv[1], budget))
		}
		s := asString(recv)
		fields := int64(strings.Count(s, "{"))
		return cost{bytes: int64(len(s)) + mulSat(fields, largest), steps: fields}
	},
	"elems": receiverCopy(wordSize), "codepoints": receiverCopy(wordSize),
	"elem_ords": receiverCopy(wordSize), "codepoint_ords": receiverCopy(wordSize),
	"split": receiverCopy(wordSize), "rsplit": receiverCopy(wordSize),
	"splitlines": receiverCopy(wordSize), "partition": receiverCopy(1), "rpartition": receiverCopy(1),
	"upper": receiverCopy(1), "lower": receiverCopy(1), "title": receiverCopy(1),
	"capitalize": receiverCopy(1), "strip": receiverCopy(1), "lstrip": receiverCopy(1),
	"rstrip": receiverCopy(1), "removeprefix": receiverCopy(1), "removesuffix": receiverCopy(1),
	"items": receiverCopy(3 * wordSize), "keys": receiverCopy(wordSize), "values": receiverCopy(wordSize),
	"extend": perElement(wordSize), "update": compared(perElement(entrySize)),
	"union": compared(withReceiver(entrySize)), "intersection": compared(withReceiver(entrySize)),
	"difference": compared(withReceiver(entrySize)), "symmetric_difference": compared(withReceiver(entrySize)),
	"issubset": compared(nil), "issuperset": compared(nil), "add": compared(nil), "discard": compared(nil),
	"remove": compared(nil), "index": compared(nil), "count": compared(nil), "get": compared(nil),
	"pop": compared(nil), "setdefault": compared(nil),
}

// receiverCopy charges per element (or byte) of the receiver. Building elements counts as
// steps; copying bytes does not.
func receiverCopy(bytes int64) costFunc {
	return func(_ int64, recv starlark.Value, _ starlark.Tuple, _ []starlark.Tuple) cost {
		n := int64(max(0, starlark.Len(recv)))
		c := cost{bytes: mulSat(n, bytes)}
		if bytes >= wordSize {
			c.steps = n
		}
		return c
	}
}

// withReceiver charges per element of the receiver and the arguments.
func withReceiver(bytes int64) costFunc {
	return func(budget int64, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) cost {
		return perElement(bytes)(budget, nil, append(starlark.Tuple{recv}, args...), kwargs)
	}
}

func asString(v starlark.Value) string {
	s, _ := starlark.AsString(v)
	return s
}

// size is the memory a value's top level takes, roughly.
func size(v starlark.Value) int64 {
	switch v := v.(type) {
	case starlark.String:
		return int64(len(v))
	case starlark.Bytes:
		return int64(len(v))
	case *starlark.List:
		return wordSize * int64(v.Len())
	case starlark.Tuple:
		return wordSize * int64(len(v))
	case *starlark.Dict:
		return entrySize * int64(v.Len())
	case *starlark.Set:
		return entrySize * int64(v.Len())
	case starlark.Int:
		if bits := bitLen(v); bits > 64 {
			return int64(bits / 8)
		}
	}
	return 0
}

func bitLen(i starlark.Int) int {
	if _, ok := i.Int64(); ok {
		return 64
	}
	return i.BigInt().BitLen()
}

// strSize estimates the length of str(v), stopping as soon as it passes limit, so that
// values sharing structure (l = [l, l] ...) cost the walk at most limit.
func strSize(v starlark.Value, limit int64) int64 {
	if s, ok := v.(starlark.String); ok {
		return int64(len(s))
	}
	var n int64
	var path []starlark.Value // open containers, to stop at cycles as str does
	var walk func(v starlark.Value)
	walk = func(v starlark.Value) {
		if n > limit {
			return
		}
		n += 2 // brackets, quotes or a separator
		switch v := v.(type) {
		case starlark.String:
			n += 4 * int64(len(v)) // repr may escape a byte as \xNN
		case starlark.Bytes:
			n += 4 * int64(len(v))
		case starlark.Int:
			n += int64(bitLen(v)/3 + 1)
		case starlark.Tuple:
			for _, x := range v {
				walk(x)
			}
		case *starlark.List, *starlark.Dict, *starlark.Set:
			for _, p := range path {
				if p == v {
					return
				}
			}
			path = append(path, v)
			iter := starlark.Iterate(v)
			var x starlark.Value
			for n <= limit && iter.Next(&x) {
				walk(x)
				if d, ok := v.(*starlark.Dict); ok {
					val, _, _ := d.Get(x)
					walk(val)
				}
			}
			iter.Done()
			path = path[:len(path)-1]
		case starlark.NoneType, starlark.Bool, starlark.Float:
			n += 8
		default:
			n += int64(len(v.String())) // functions, builtins, user and env: small
		}
	}
	walk(v)
	return n
}

func mulSat(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
