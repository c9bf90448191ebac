package options

import (
	"regexp"
	"strconv"

	"go.starlark.net/syntax"
)

// locate positions value problems in source. A problem with "pin.max_length" points at the
// "max_length" key in the dict options() returns, or, when that key's value is a module
// constant such as PIN_MAX_LENGTH, at the constant: the line an administrator edits. A path
// the source does not spell out (values computed at run time) falls back to the deepest part
// found, and finally to the options function.
func locate(source string, problems []problem) ScriptErrors {
	l := newLocator(source)
	out := make(ScriptErrors, len(problems))
	for i, p := range problems {
		out[i] = at(l.find(p.path, p.key), p.msg)
		out[i].Path = p.path
	}
	return out
}

type locator struct {
	globals map[string]syntax.Expr // module-level NAME = value
	def     *syntax.DefStmt
	result  *syntax.ReturnStmt
}

func newLocator(source string) *locator {
	l := &locator{globals: map[string]syntax.Expr{}}
	// The source compiled once already; parsing it again keeps the rewritten tree out of this.
	f, err := (&syntax.FileOptions{Set: true}).Parse(scriptName, source, 0)
	if err != nil {
		return l
	}
	for _, s := range f.Stmts {
		switch s := s.(type) {
		case *syntax.AssignStmt:
			if id, ok := s.LHS.(*syntax.Ident); ok && s.Op == syntax.EQ {
				l.globals[id.Name] = s.RHS
			}
		case *syntax.DefStmt:
			if s.Name.Name == "options" {
				l.def = s
				l.result = firstReturn(s.Body)
			}
		}
	}
	return l
}

// firstReturn finds the first return statement with a value, looking into if and for blocks.
func firstReturn(body []syntax.Stmt) *syntax.ReturnStmt {
	for _, s := range body {
		switch s := s.(type) {
		case *syntax.ReturnStmt:
			if s.Result != nil {
				return s
			}
		case *syntax.IfStmt:
			if r := firstReturn(s.True); r != nil {
				return r
			}
			if r := firstReturn(s.False); r != nil {
				return r
			}
		case *syntax.ForStmt:
			if r := firstReturn(s.Body); r != nil {
				return r
			}
		}
	}
	return nil
}

var pathPart = regexp.MustCompile(`[^.\[\]]+|\[\d+\]`)

// find returns the position of the value at path, or of its key when atKey is set.
func (l *locator) find(path string, atKey bool) syntax.Position {
	if l.def == nil {
		return syntax.Position{}
	}
	pos := l.def.Def
	if l.result == nil {
		return pos
	}
	e, pos := l.deref(l.result.Result, l.result.Return)
	parts := pathPart.FindAllString(path, -1)
	for i, part := range parts {
		var next syntax.Expr
		switch x := e.(type) {
		case *syntax.DictExpr:
			for _, entry := range x.List {
				entry := entry.(*syntax.DictEntry)
				if l.keyName(entry.Key) == part {
					next, pos = entry.Value, start(entry.Key)
					break
				}
			}
		case *syntax.ListExpr:
			if part[0] != '[' {
				break
			}
			if i, err := strconv.Atoi(part[1 : len(part)-1]); err == nil && i < len(x.List) {
				next, pos = x.List[i], start(x.List[i])
			}
		}
		if next == nil || atKey && i == len(parts)-1 {
			return pos
		}
		e, pos = l.deref(next, pos)
	}
	return pos
}

// deref follows names of module constants to their values; the position moves to the value.
func (l *locator) deref(e syntax.Expr, pos syntax.Position) (syntax.Expr, syntax.Position) {
	for range 10 { // constants may name constants; a few hops are plenty
		switch x := e.(type) {
		case *syntax.ParenExpr:
			e = x.X
			continue
		case *syntax.Ident:
			if v, ok := l.globals[x.Name]; ok {
				e, pos = v, start(v)
				continue
			}
		}
		break
	}
	return e, pos
}

// keyName is a dict key as the path names it: a string literal, or a constant such as
// AUTHENTICATION, whose name is its value.
func (l *locator) keyName(e syntax.Expr) string {
	switch x := e.(type) {
	case *syntax.Literal:
		if s, ok := x.Value.(string); ok {
			return s
		}
	case *syntax.Ident:
		if v, ok := l.globals[x.Name].(*syntax.Literal); ok {
			if s, ok := v.Value.(string); ok {
				return s
			}
		}
		return x.Name
	}
	return ""
}

func start(e syntax.Expr) syntax.Position {
	p, _ := e.Span()
	return p
}
