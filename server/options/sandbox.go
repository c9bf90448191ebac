package options

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"

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
// The sandbox fails closed: a universal builtin or a method of a built-in type without an
// entry in the cost table (costs.go) or on its list of free names is refused, so that a
// version of go.starlark.net that adds one cannot slip an unmetered allocator in. Tests walk
// the universe and every built-in type's methods and fail on a name that is not decided.
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

// sandbox returns the names a script sees besides its own: the vscard constants, the
// universal builtins behind their meters, and the guards the rewriter calls. It is built once;
// every value in it is immutable.
var sandbox = sync.OnceValue(func() starlark.StringDict { return newSandbox(starlark.Universe) })

// newSandbox builds the sandbox over universe. It fails closed: the resolver falls back to
// starlark.Universe for any name missing here, so every universal name gets an entry, and one
// that is neither metered (builtinCosts), guarded (guardedBuiltins) nor known to need no meter
// (freeUniversals) is refused. A builtin that a new go.starlark.net adds is therefore
// unavailable to scripts until someone decides its cost, instead of running unmetered.
func newSandbox(universe starlark.StringDict) starlark.StringDict {
	d := starlark.StringDict{}
	for _, s := range []string{
		string(cardspec.Allowed), string(cardspec.Required), string(cardspec.Disallowed),
		string(cardspec.Authentication), string(cardspec.Signature), string(cardspec.Encryption),
		string(cardspec.ECCP256), string(cardspec.ECCP384), string(cardspec.RSA2048),
		string(cardspec.KeyPolicyTPM), string(cardspec.KeyPolicyTPMPreferred), string(cardspec.KeyPolicySoftware),
	} {
		d[s] = starlark.String(s)
	}
	for name, v := range universe {
		b, isBuiltin := v.(*starlark.Builtin)
		switch {
		case guardedBuiltins[name] != nil:
			d[name] = starlark.NewBuiltin(name, guardedBuiltins[name])
		case isBuiltin && builtinCosts[name] != nil:
			d[name] = meteredBuiltin(b, builtinCosts[name])
		case freeUniversals[name]:
			d[name] = v
		default:
			d[name] = refused(name)
		}
	}
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
}

// refused stands in for a universal name the sandbox has no meter for.
func refused(name string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return nil, fmt.Errorf("%s is not available in an option script", name)
	})
}

// builtinMethods returns the names of the methods of Starlark's built-in types. The rewriter
// routes each of them that is not free through the attribute guard, which meters it or, when
// methodCosts has no entry, refuses it.
var builtinMethods = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, v := range []starlark.HasAttrs{
		starlark.String(""), starlark.Bytes(""), starlark.NewList(nil), starlark.NewDict(0), starlark.NewSet(0),
	} {
		for _, name := range v.AttrNames() {
			m[name] = true
		}
	}
	return m
})
