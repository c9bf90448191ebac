package options

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// TestEveryUniversalIsDecided fails when a universal name of go.starlark.net is neither
// metered, guarded nor declared free, or when one of those lists names something the universe
// no longer has. After an upgrade of go.starlark.net, decide the new name's cost here.
func TestEveryUniversalIsDecided(t *testing.T) {
	for name, v := range starlark.Universe {
		_, costed := builtinCosts[name]
		_, guarded := guardedBuiltins[name]
		n := 0
		for _, in := range []bool{costed, guarded, freeUniversals[name]} {
			if in {
				n++
			}
		}
		switch {
		case n == 0:
			t.Errorf("universal %s (%s) has no entry in builtinCosts, guardedBuiltins or freeUniversals: decide what it costs", name, v.Type())
		case n > 1:
			t.Errorf("universal %s is in more than one of builtinCosts, guardedBuiltins and freeUniversals", name)
		}
		if _, ok := v.(*starlark.Builtin); !ok && (costed || guarded) {
			t.Errorf("universal %s is a %s, not a builtin to meter", name, v.Type())
		}
	}
	for _, list := range []map[string]bool{keys(builtinCosts), keys(guardedBuiltins), freeUniversals} {
		for name := range list {
			if !starlark.Universe.Has(name) {
				t.Errorf("%s is listed but is not a universal name", name)
			}
		}
	}
}

// TestEveryMethodIsDecided walks the methods of every kind of value a script can make and
// fails on one that is neither in methodCosts nor in freeMethods, and on listed names that are
// no method at all.
func TestEveryMethodIsDecided(t *testing.T) {
	// One value of each type the language and the universal builtins produce.
	const src = `values = [
    None, True, 0, 1 << 70, 0.5, "", b"", [], {}, set(), (), range(3),
    "ab".elems(), "ab".codepoints(), "ab".elem_ords(), "ab".codepoint_ords(), b"ab".elems(),
    {}.items(), {}.keys(), {}.values(), "a b".split(), "a".partition("a"),
    enumerate([]), zip(), reversed([]), sorted([]), dir(""), type(0), len, [].append,
    lambda: 0, hash(""), repr(0), str(0), bytes(""), float(0), abs(-1), chr(65), ord("A"),
]`
	globals, err := starlark.ExecFileOptions(&syntax.FileOptions{Set: true}, &starlark.Thread{}, "values.star", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	values := globals["values"].(*starlark.List)
	seen := map[string]bool{}
	for i := range values.Len() {
		v := values.Index(i)
		x, ok := v.(starlark.HasAttrs)
		if !ok {
			continue
		}
		for _, name := range x.AttrNames() {
			if seen[v.Type()+"."+name] {
				continue
			}
			seen[v.Type()+"."+name] = true
			// The rewriter routes only the names of builtinMethods through the guard: a type
			// with methods beyond them would escape it.
			if !builtinMethods()[name] {
				t.Errorf("%s.%s is a method builtinMethods does not know: add %s to the types it lists", v.Type(), name, v.Type())
			}
			_, costed := methodCosts[name]
			switch {
			case !costed && !freeMethods[name]:
				t.Errorf("%s.%s has no entry in methodCosts or freeMethods: decide what it costs", v.Type(), name)
			case costed && freeMethods[name]:
				t.Errorf("%s.%s is in both methodCosts and freeMethods", v.Type(), name)
			}
		}
	}
	for _, list := range []map[string]bool{keys(methodCosts), freeMethods} {
		for name := range list {
			if !builtinMethods()[name] {
				t.Errorf("%s is listed but is no method of a built-in type", name)
			}
		}
	}
}

// TestSandboxFailsClosed checks what happens to a builtin or method that has no decided cost:
// the script cannot call it.
func TestSandboxFailsClosed(t *testing.T) {
	allocate := starlark.NewBuiltin("allocate", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.String(strings.Repeat("a", 1<<20)), nil
	})
	universe := starlark.StringDict{"allocate": allocate}
	for name, v := range starlark.Universe {
		universe[name] = v
	}
	box := newSandbox(universe)
	if _, err := starlark.Call(&starlark.Thread{}, box["allocate"], nil, nil); err == nil || !strings.Contains(err.Error(), "allocate is not available") {
		t.Errorf("calling an undecided builtin = %v, want it refused", err)
	}
	for name, v := range starlark.Universe {
		if box[name] == nil {
			t.Errorf("the sandbox has no entry for universal %s: the resolver would use the unguarded one", name)
		}
		if box[name] == v && !freeUniversals[name] {
			t.Errorf("the sandbox passes universal %s through unmetered", name)
		}
	}

	method := allocate.BindReceiver(starlark.String(""))
	if _, err := guardMethod(method, "allocate"); err == nil || !strings.Contains(err.Error(), "string.allocate is not available") {
		t.Errorf("an undecided method = %v, want it refused", err)
	}

	// A method that loses its entry is refused where a script calls it, directly or by getattr.
	delete(freeMethods, "isdigit")
	t.Cleanup(func() { freeMethods["isdigit"] = true })
	for _, body := range []string{`return "1".isdigit()`, `return getattr("1", "isdigit")()`} {
		if _, err := sandboxed(t, body); err == nil || !strings.Contains(err.Error(), "string.isdigit is not available") {
			t.Errorf("%s without a cost entry = %v, want it refused", body, err)
		}
	}
}

func keys[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}
