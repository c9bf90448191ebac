package options

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

// DefaultScript is the option script vscard creates on first start. It holds the default
// values as constants an administrator edits.
//
//go:embed default.star
var DefaultScript string

// The limits Evaluate applies when a Limits field is zero.
const (
	DefaultMaxSteps = 1_000_000
	DefaultMaxTime  = 2 * time.Second
	DefaultMaxBytes = 64 << 20
	// MaxSourceSize bounds the script itself.
	MaxSourceSize = 256 << 10
)

// cancelGrace is how long Evaluate waits for a cancelled script to stop. A script stops
// between two steps; only a single operation that runs long inside Go (hashing or comparing
// huge nested values) can outlast it, and Evaluate then returns without it.
const cancelGrace = time.Second

// scriptName is the file name in positions; errors show only line and column.
const scriptName = "options.star"

// Limits bounds one evaluation. A zero field takes its default.
type Limits struct {
	// Steps bounds Starlark execution steps; elements a builtin iterates count as steps.
	Steps uint64
	// Time bounds the wall-clock time of one evaluation.
	Time time.Duration
	// Bytes bounds what the script allocates in total (strings, lists, dicts, big ints).
	Bytes int64
}

func (l Limits) withDefaults() Limits {
	if l.Steps == 0 {
		l.Steps = DefaultMaxSteps
	}
	if l.Time == 0 {
		l.Time = DefaultMaxTime
	}
	if l.Bytes == 0 {
		l.Bytes = DefaultMaxBytes
	}
	return l
}

// Evaluate runs the option script source for user u on server env with the default limits
// and returns the validated options. See [Limits.Evaluate].
func Evaluate(ctx context.Context, source string, u User, env Env) (*cardspec.Options, error) {
	return Limits{}.Evaluate(ctx, source, u, env)
}

// Evaluate compiles source, calls its options(user, env) function in a sandbox bounded by l
// and ctx, and checks every value it returns.
//
// A script without a usable result yields an *errs.Error with code errs.ScriptError whose
// Details["errors"] is a []ScriptError and whose cause is a ScriptErrors. Cancelling ctx
// returns ctx's error, wrapped.
func (l Limits) Evaluate(ctx context.Context, source string, u User, env Env) (*cardspec.Options, error) {
	s, err := Compile(source)
	if err != nil {
		return nil, err
	}
	return l.EvaluateScript(ctx, s, u, env)
}

// Script is a compiled option script. It is immutable: evaluate it for any number of
// users, at once if need be; each evaluation starts from fresh globals.
type Script struct {
	source string
	prog   *starlark.Program
}

// Compile checks and compiles source. Problems are reported as by [Limits.Evaluate].
func Compile(source string) (*Script, error) {
	prog, list := compile(source)
	if list != nil {
		return nil, list.asError()
	}
	return &Script{source: source, prog: prog}, nil
}

// EvaluateScript is [Limits.Evaluate] for a script compiled before.
func (l Limits) EvaluateScript(ctx context.Context, s *Script, u User, env Env) (*cardspec.Options, error) {
	l = l.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate options: %w", err)
	}
	v, list, err := l.run(ctx, s.prog, u, env)
	if err != nil {
		return nil, err
	}
	if list != nil {
		return nil, list.asError()
	}
	opts, problems := decode(v)
	if len(problems) > 0 {
		return nil, locate(s.source, problems).asError()
	}
	return opts, nil
}

// Validate checks a script before it is saved: it compiles it, evaluates it for sample (use
// [Sample] when no real user is at hand) and checks every value. It returns the options the
// sample user would get, or the problems, each positioned in source. An evaluation that could
// not finish (ctx cancelled) is one problem without a position.
func Validate(ctx context.Context, source string, sample User, env Env) (*cardspec.Options, []ScriptError) {
	opts, err := Evaluate(ctx, source, sample, env)
	if err == nil {
		return opts, nil
	}
	var list ScriptErrors
	if errors.As(err, &list) {
		return nil, list
	}
	return nil, []ScriptError{{Message: err.Error()}}
}

// Sample returns the user Validate evaluates a script for when saving it.
func Sample() User {
	return User{
		ID:          "00000000-0000-4000-8000-000000000001",
		Username:    "jdoe",
		Email:       "jane.doe@example.com",
		DisplayName: "Jane Doe",
		Roles:       []string{"user"},
		Attributes:  map[string]any{"department": "Engineering"},
	}
}

// compile parses source, routes its costly operations through the sandbox's guards and
// resolves it.
func compile(source string) (*starlark.Program, ScriptErrors) {
	if len(source) > MaxSourceSize {
		return nil, ScriptErrors{{Message: fmt.Sprintf("the script is too long: %d bytes, at most %d are allowed", len(source), MaxSourceSize)}}
	}
	opts := &syntax.FileOptions{Set: true}
	f, err := opts.Parse(scriptName, source, 0)
	if err != nil {
		var se syntax.Error
		if errors.As(err, &se) {
			return nil, ScriptErrors{at(se.Pos, se.Msg)}
		}
		return nil, ScriptErrors{{Message: err.Error()}}
	}
	r := &rewriter{}
	for _, s := range f.Stmts {
		if load, ok := s.(*syntax.LoadStmt); ok {
			r.fail(load.Load, "load() is not available: an option script is a single file")
		}
	}
	r.stmts(f.Stmts)
	if r.errs != nil {
		return nil, r.errs
	}
	prog, err := starlark.FileProgram(f, sandbox().Has)
	if err != nil {
		var list resolve.ErrorList
		if errors.As(err, &list) {
			out := make(ScriptErrors, len(list))
			for i, e := range list {
				out[i] = at(e.Pos, e.Msg)
			}
			return nil, out
		}
		return nil, ScriptErrors{{Message: err.Error()}}
	}
	return prog, nil
}

// run executes prog and calls options(user, env) on a goroutine of its own, so that the time
// limit holds even when the script does not stop when cancelled.
func (l Limits) run(ctx context.Context, prog *starlark.Program, u User, env Env) (starlark.Value, ScriptErrors, error) {
	m := &meter{maxSteps: l.Steps, maxBytes: l.Bytes}
	thread := &starlark.Thread{
		Name:  "options",
		Print: func(*starlark.Thread, string) {}, // nobody reads a server's script output
		OnMaxSteps: func(t *starlark.Thread) {
			m.stopped(stepLimit)
			t.Cancel("too many steps")
		},
	}
	thread.SetLocal(meterKey, m)
	thread.SetMaxExecutionSteps(l.Steps)
	args := starlark.Tuple{userValue(u), envValue(env)}

	type result struct {
		v     starlark.Value
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{panic: p}
			}
		}()
		v, err := call(thread, prog, args)
		done <- result{v: v, err: err}
	}()

	timer := time.NewTimer(l.Time)
	defer timer.Stop()
	var r result
	select {
	case r = <-done:
	case <-timer.C:
		m.stopped(timeLimit)
	case <-ctx.Done():
		m.stopped(canceled)
	}
	if m.reason() == timeLimit || m.reason() == canceled {
		thread.Cancel("stopped")
		select {
		case r = <-done:
		case <-time.After(cancelGrace):
			r = result{err: errors.New("the script did not stop")}
		}
	}

	switch {
	case m.reason() == canceled:
		return nil, nil, fmt.Errorf("evaluate options: %w", context.Cause(ctx))
	case r.panic != nil:
		return nil, nil, errs.Wrap(fmt.Errorf("evaluate options: panic: %v", r.panic), errs.Internal, "The option script could not be evaluated.")
	case r.err != nil:
		return nil, ScriptErrors{runtimeError(r.err, m.reason(), l)}, nil
	}
	return r.v, nil, nil
}

// call runs the top level of prog and then options(user, env).
func call(thread *starlark.Thread, prog *starlark.Program, args starlark.Tuple) (starlark.Value, error) {
	globals, err := prog.Init(thread, sandbox())
	if err != nil {
		return nil, err
	}
	fn, ok := globals["options"].(*starlark.Function)
	switch {
	case !ok && globals["options"] == nil:
		return nil, errNoOptions{msg: "the script must define a function options(user, env)"}
	case !ok:
		return nil, errNoOptions{msg: fmt.Sprintf("options must be a function, not %s", globals["options"].Type())}
	case fn.NumParams() != 2 || fn.HasVarargs() || fn.HasKwargs():
		return nil, errNoOptions{fn.Position(), "options must take exactly two parameters: user and env"}
	}
	return starlark.Call(thread, fn, args, nil)
}

// errNoOptions says the script has no function to call.
type errNoOptions struct {
	pos syntax.Position
	msg string
}

func (e errNoOptions) Error() string { return e.msg }

// runtimeError positions err at the innermost line of the script it came from and replaces
// the interpreter's message when a limit ended the run.
func runtimeError(err error, reason limit, l Limits) ScriptError {
	var se ScriptError
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		se = ScriptError{Message: ee.Msg}
		for i := len(ee.CallStack) - 1; i >= 0; i-- {
			if pos := ee.CallStack[i].Pos; pos.Filename() == scriptName {
				se = at(pos, ee.Msg)
				break
			}
		}
	} else if no, ok := err.(errNoOptions); ok {
		se = at(no.pos, no.msg)
	} else {
		se.Message = err.Error()
	}
	switch reason {
	case stepLimit:
		se.Message = fmt.Sprintf("the script ran too long: more than %d steps", l.Steps)
	case timeLimit:
		se.Message = fmt.Sprintf("the script ran too long: more than %v", l.Time)
	case memoryLimit:
		se.Message = fmt.Sprintf("the script uses too much memory: more than %s", mebibytes(l.Bytes))
	}
	if len(se.Message) > 500 {
		se.Message = se.Message[:500] + "..."
	}
	return se
}

func mebibytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

func at(pos syntax.Position, msg string) ScriptError {
	return ScriptError{Line: int(pos.Line), Column: int(pos.Col), Message: msg}
}

// userValue is what a script sees as user: a frozen struct with snake_case fields.
func userValue(u User) starlark.Value {
	roles := make([]starlark.Value, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = starlark.String(r)
	}
	s := starlarkstruct.FromStringDict(starlark.String("user"), starlark.StringDict{
		"id":           starlark.String(u.ID),
		"username":     starlark.String(u.Username),
		"email":        starlark.String(u.Email),
		"display_name": starlark.String(u.DisplayName),
		"roles":        starlark.NewList(roles),
		"attributes":   toStarlark(u.Attributes),
	})
	s.Freeze()
	return s
}

func envValue(e Env) starlark.Value {
	s := starlarkstruct.FromStringDict(starlark.String("env"), starlark.StringDict{
		"server_name": starlark.String(e.ServerName),
	})
	s.Freeze()
	return s
}

// toStarlark converts decoded JSON (identity provider attributes) to Starlark values.
func toStarlark(v any) starlark.Value {
	switch v := v.(type) {
	case nil:
		return starlark.None
	case string:
		return starlark.String(v)
	case bool:
		return starlark.Bool(v)
	case int:
		return starlark.MakeInt(v)
	case int64:
		return starlark.MakeInt64(v)
	case float64:
		if v == float64(int64(v)) {
			return starlark.MakeInt64(int64(v))
		}
		return starlark.Float(v)
	case []string:
		l := make([]starlark.Value, len(v))
		for i, x := range v {
			l[i] = starlark.String(x)
		}
		return starlark.NewList(l)
	case []any:
		l := make([]starlark.Value, len(v))
		for i, x := range v {
			l[i] = toStarlark(x)
		}
		return starlark.NewList(l)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := starlark.NewDict(len(v))
		for _, k := range keys {
			_ = d.SetKey(starlark.String(k), toStarlark(v[k])) // string keys always hash
		}
		return d
	}
	return starlark.String(fmt.Sprint(v))
}
