package options

// The guards are the builtins the rewritten script calls in place of its costly operations
// (see rewrite.go), and the wrappers around builtins and methods: each charges the meter
// before the operation runs, with the estimates of costs.go.

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

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

// attr is x.name for the methods the rewriter routes here (see guardedAttr): the bound method
// comes back metered, or refused.
func attr(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	x, name := args[0], string(args[1].(starlark.String))
	v, err := getAttr(x, name)
	if err != nil {
		return nil, err
	}
	return guardMethod(v, name)
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

// getattrGuard is getattr(x, name[, default]) returning guarded methods.
func getattrGuard(t *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	v, err := starlark.Universe["getattr"].(*starlark.Builtin).CallInternal(t, args, kwargs)
	if err != nil {
		return nil, err
	}
	if len(args) > 1 {
		if name, ok := args[1].(starlark.String); ok {
			return guardMethod(v, string(name))
		}
	}
	return v, nil
}

// guardMethod returns v, the value of x.name: metered if it is a method with an entry in
// methodCosts, as it is if it is no method of a built-in type or one in freeMethods, and
// refused otherwise, so that a method a new go.starlark.net adds fails closed.
func guardMethod(v starlark.Value, name string) (starlark.Value, error) {
	m, ok := v.(*starlark.Builtin)
	if !ok || m.Receiver() == nil {
		return v, nil
	}
	costOf := methodCosts[name]
	if costOf == nil {
		if freeMethods[name] {
			return v, nil
		}
		return nil, fmt.Errorf("%s.%s is not available in an option script", m.Receiver().Type(), name)
	}
	return starlark.NewBuiltin(name, func(t *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		mt := meterOf(t)
		if err := mt.charge(t, costOf(mt.budget(), m.Receiver(), args, kwargs)); err != nil {
			return nil, err
		}
		return m.CallInternal(t, args, kwargs)
	}), nil
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
