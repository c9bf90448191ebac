package options

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// native runs body as the body of options(user, env) in plain Starlark.
func native(t *testing.T, body string) (string, error) {
	t.Helper()
	src := "def options(user, env):\n" + indent(body)
	thread := &starlark.Thread{}
	consts := starlark.StringDict{}
	globals, err := starlark.ExecFileOptions(&syntax.FileOptions{Set: true}, thread, scriptName, src, consts)
	if err != nil {
		return "", err
	}
	v, err := starlark.Call(thread, globals["options"], starlark.Tuple{starlark.None, starlark.None}, nil)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// sandboxed runs the same body through the rewriter and the guards.
func sandboxed(t *testing.T, body string) (string, error) {
	t.Helper()
	prog, list := compile("def options(user, env):\n" + indent(body))
	if list != nil {
		return "", list
	}
	v, list, err := Limits{Time: time.Minute}.withDefaults().run(context.Background(), prog, User{}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if list != nil {
		return "", list
	}
	return v.String(), nil
}

func indent(body string) string {
	return "    " + strings.ReplaceAll(body, "\n", "\n    ") + "\n"
}

// TestSandboxKeepsSemantics checks that routing operations through the guards changes no
// result and no error message.
func TestSandboxKeepsSemantics(t *testing.T) {
	var slices []string
	bounds := []string{"", "-7", "-3", "-1", "0", "1", "3", "7"}
	for _, lo := range bounds {
		for _, hi := range bounds {
			for _, step := range []string{"", "-2", "-1", "1", "2", "3"} {
				slices = append(slices, fmt.Sprintf("l[%s:%s:%s], s[%s:%s:%s]", lo, hi, step, lo, hi, step))
			}
		}
	}
	tests := []struct{ name, body string }{
		{"ok/slices", "l = [0, 1, 2, 3, 4, 5]\ns = \"abcdef\"\nreturn [" + strings.Join(slices, ", ") + "]"},
		{"ok/slice defaults", "t = (1, 2, 3)\nreturn t[:], t[1:], t[:-1], t[::-1], \"abc\"[5:]"},
		{"ok/in-place list extension keeps aliases", "l = [1]\nm = l\nl += [2]\nreturn l, m"},
		{"ok/augmented string", "s = \"a\"\ns += \"b\"\ns *= 3\ns %= ()\nreturn s"},
		{"ok/augmented index", "x = [1, 2, 3]\nx[1] += 5\nd = {\"a\": [1]}\nd[\"a\"] += [2]\nreturn x, d"},
		{"ok/augmented int", "n = 7\nn -= 2\nn //= 2\nn <<= 3\nn >>= 1\nn |= 1\nn &= 13\nn ^= 4\nn %= 5\nreturn n"},
		{"ok/dict union", "d = {\"a\": 1}\nd |= {\"b\": 2}\nreturn d, d | {\"c\": 3}"},
		{"ok/arithmetic", "return 5 // 2, 7 - 3, 6 & 3, 6 ^ 3, 1 << 4, 256 >> 2, 7 / 2, 2 * 3, -3 % 5, [1] * 3, 2 * \"ab\""},
		{"ok/formatting", "return \"%s-%d\" % (\"x\", 3), \"%(a)s\" % {\"a\": 1}, \"{}{}\".format(1, \"a\"), \"{x}\".format(x=[1])"},
		{"ok/string methods", "s = \" a,b \"\nreturn s.strip().split(\",\"), \",\".join([\"a\", \"b\"]), \"aXbX\".replace(\"X\", \"--\"), s.upper(), list(\"ab\".elems())"},
		{"ok/bound methods", "f = \",\".join\ng = getattr(\"a,b\", \"split\")\nreturn f([\"x\", \"y\"]), g(\",\"), getattr(\"a\", \"nope\", None)"},
		{"ok/spread", "def f(*a, **k):\n    return a, k\nreturn f(*[1, 2], **{\"x\": 3})"},
		{"ok/comprehensions and lambdas", "return [x * 2 for x in range(5) if x % 2], {k: v + 1 for k, v in [(\"a\", 1)]}, (lambda x = 2 * 3: x + 1)()"},
		{"ok/builtins", "return sorted([3, 1, 2], reverse = True), list(reversed([1, 2])), dict(a = 1), set([1, 2]) | set([3]), max([1, 5]), str([1, \"a\"]), repr(\"a\"), int(\"42\"), tuple(\"ab\".elems()), list(enumerate(\"ab\".elems())), any([0, 1]), all([])"},
		{"ok/dict methods", "d = {\"a\": 1}\nd.update(b = 2)\nreturn d.items(), d.keys(), d.values()"},
		{"ok/list methods", "l = [1]\nl.extend([2, 3])\nl.append(4)\nreturn l"},
		{"ok/comparisons and keys", "d = {(1, 2): 3}\nd[(1, 2)] += 1\nreturn 1 < 2, \"a\" in \"abc\", 3 not in [1], d[(1, 2)], [1] == [1], (1, 2) <= (1, 3), d.get((1, 2)), {k: 1 for k in [\"a\"]}, [3, 1].index(1)"},
		{"error/binary op", "return 1 + \"a\""},
		{"error/comparison", "return 1 < \"a\""},
		{"error/unhashable key", "return {[1]: 2}"},
		{"error/missing key", "return {\"a\": 1}[\"b\"]"},
		{"error/index", "return [1][5]"},
		{"error/zero step", "return \"abc\"[::0]"},
		{"error/bad slice index", "return \"abc\"[\"a\":]"},
		{"error/no such method", "return \"x\".join2()"},
		{"error/no such attribute on int", "return (1).split()"},
		{"error/int literal", "return int(\"zz\")"},
		{"error/repeat by a string", "return \"a\" * \"b\""},
		{"error/join of ints", "return \",\".join([1, 2])"},
		{"error/percent", "return \"%d\" % \"a\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := native(t, tt.body)
			got, gotErr := sandboxed(t, tt.body)
			if strings.HasPrefix(tt.name, "error/") != (wantErr != nil) {
				t.Fatalf("native error = %v, want error only for error/ cases", wantErr)
			}
			if wantErr != nil {
				msg := wantErr.(*starlark.EvalError).Msg
				if gotErr == nil || !strings.HasSuffix(gotErr.Error(), msg) {
					t.Errorf("sandboxed error = %v, want %q", gotErr, msg)
				}
				return
			}
			if gotErr != nil {
				t.Fatalf("sandboxed error = %v, want %s", gotErr, want)
			}
			if got != want {
				t.Errorf("sandboxed = %s\nnative    = %s", got, want)
			}
		})
	}
}

func TestSandboxRefusesAugmentedCallTarget(t *testing.T) {
	_, list := compile("def f():\n    return [0]\ndef options(user, env):\n    f()[0] += 1\n")
	if len(list) != 1 || list[0].Line != 4 || list[0].Column != 12 || !strings.Contains(list[0].Message, "assign the result with = instead") {
		t.Errorf("compile = %v, want one error at 4:12", list)
	}
}

// TestSandboxBoundsMemory measures what hostile scripts really allocate: far less than what
// they ask for.
func TestSandboxBoundsMemory(t *testing.T) {
	tests := []struct {
		name, body string
		max        uint64 // bytes the process may allocate while refusing
	}{
		{"error/repeat", "return \"a\" * 1000000000", 1 << 20},
		{"error/list repeat", "return [None] * 100000000", 1 << 20},
		{"error/list of a range", "return list(range(100000000))", 1 << 20},
		{"error/sorted range", "return sorted(range(100000000))", 1 << 20},
		{"error/extend by a range", "l = []\nl.extend(range(100000000))\nreturn l", 1 << 20},
		{"error/replace", "s = \"a\" * 1000\nreturn s.replace(\"a\", s).replace(\"a\", s)", 16 << 20},
		{"error/join", "s = \"a\" * 10000\nreturn s.join([s] * 10000)", 16 << 20},
		{"error/format", "s = \"a\" * 1000000\nreturn (\"{}\" * 1000).format(s)", 16 << 20},
		{"error/percent", "s = \"a\" * 1000000\nreturn (\"%s\" * 1000) % ((s,) * 1000)", 16 << 20},
		{"error/string doubling", "s = \"ab\"\nfor i in range(64):\n    s = s + s\nreturn s", 4 * DefaultMaxBytes},
		{"error/copies kept", "l = list(range(100000))\nkeep = []\nfor i in range(100000):\n    keep.append(l[:])\nreturn keep", 4 * DefaultMaxBytes},
		{"error/spread kept", "def f(*a):\n    return a\nl = list(range(100000))\nreturn [f(*l) for i in range(100000)]", 4 * DefaultMaxBytes},
		{"error/shift", "n = 1\nfor i in range(100000):\n    n = n << 500\nreturn n", 4 << 20},
		{"error/long int literal", "return int(\"9\" * 100000)", 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := sandboxed(t, tt.body)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("the script ran, want it refused")
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > tt.max {
				t.Errorf("allocated %d MiB, want at most %d MiB (%v)", got>>20, tt.max>>20, err)
			}
			if elapsed > slowdown*DefaultMaxTime {
				t.Errorf("took %v, want it within the default time limit (%v)", elapsed, err)
			}
			t.Log(err)
		})
	}
}

// TestSandboxBoundsTime checks that comparing and hashing values that share structure (whose
// naive walk is exponential) is refused quickly.
func TestSandboxBoundsTime(t *testing.T) {
	const deep = "t = (1,)\nfor i in range(60):\n    t = (t, t)\n"
	const wide = "a = [0]\nb = [0]\nfor i in range(9):\n    a = [a] * 20\n    b = [b] * 20\n"
	tests := []struct{ name, body string }{
		{"error/dict literal key", deep + "return {t: 1}"},
		{"error/index", deep + "d = {}\nd[t] = 1\nreturn d"},
		{"error/membership", deep + "return t in {}"},
		{"error/set", deep + "return set([t])"},
		{"error/get", deep + "return {}.get(t)"},
		{"error/comprehension key", deep + "return {x: 1 for x in [t]}"},
		{"error/equality", wide + "return a == b"},
		{"error/list index", wide + "return [a].index(b)"},
		{"error/sorted", wide + "return sorted([a, b])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := sandboxed(t, tt.body)
			if err == nil || !strings.Contains(err.Error(), "cannot be compared or used as a key") {
				t.Errorf("err = %v, want a refusal to compare", err)
			}
			if elapsed := time.Since(start); elapsed > slowdown*time.Second {
				t.Errorf("took %v, want it to fail fast", elapsed)
			}
		})
	}
}
