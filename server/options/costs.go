package options

// The cost table: what each metered operation, builtin and method is charged before it runs.

import (
	"fmt"
	"math"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// cost is what an operation is about to spend; err refuses it outright.
type cost struct {
	bytes, steps int64
	err          error
}

// costFunc estimates a call before it runs. budget is the bytes left: estimates that walk
// values stop once they pass it.
type costFunc func(budget int64, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) cost

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

// guardedBuiltins replace universal builtins whose arguments need a check of their own.
var guardedBuiltins = map[string]func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error){
	"getattr": getattrGuard, // returns guarded methods
	"int":     intGuard,     // parsing long digit strings takes quadratic time
}

// freeUniversals are the universal names that need no meter: constants, and builtins that
// build at most a small value (a number, a bool, a one-character string, dir's list of a
// type's few method names, a lazy range) from their arguments.
var freeUniversals = map[string]bool{
	"None": true, "True": true, "False": true,
	"abs": true, "bool": true, "chr": true, "dir": true, "float": true, "hasattr": true,
	"len": true, "ord": true, "range": true, "type": true,
}

// freeMethods are the methods of built-in types that need no meter: they test or search
// without copying (find, startswith, isdigit, ...), add one element (append, insert) or remove
// elements (clear, popitem). A call adds at most one element, so the step limit bounds them.
var freeMethods = map[string]bool{
	"append": true, "insert": true, "clear": true, "popitem": true,
	"find": true, "rfind": true, "rindex": true, "startswith": true, "endswith": true,
	"isalnum": true, "isalpha": true, "isdigit": true, "islower": true, "isspace": true,
	"istitle": true, "isupper": true,
}

// methodCosts lists the methods that copy or multiply their receiver or arguments, or compare
// or hash them.
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
