package options

import (
	"fmt"
	"strings"

	"github.com/vscard/vscard/server/errs"
)

// ScriptError is one problem with an option script, positioned in its source.
type ScriptError struct {
	// Line and Column are 1-based; 0 when the problem has no position (e.g. a time limit).
	Line   int `json:"line"`
	Column int `json:"column"`
	// Path names the returned value at fault, e.g. "pin.max_length"; empty for compile and
	// runtime errors.
	Path string `json:"path,omitempty"`
	// Message says what is wrong in words an administrator can act on.
	Message string `json:"message"`
}

// Error formats e as "line:column: message".
func (e ScriptError) Error() string {
	if e.Line == 0 {
		return e.Message
	}
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message)
}

// ScriptErrors is every problem found in one evaluation, in source order for value errors.
// It is the Cause of the *errs.Error that Evaluate returns, so errors.As finds it.
type ScriptErrors []ScriptError

// Error joins the errors, one per line.
func (l ScriptErrors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// asError wraps the list into the error vocabulary: code SCRIPT_ERROR, the first problem as the
// message and all of them under Details["errors"] for the GraphQL presenter.
func (l ScriptErrors) asError() *errs.Error {
	msg := "The option script is invalid: " + l[0].Error()
	if len(l) > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", len(l)-1)
	}
	return errs.Wrap(l, errs.ScriptError, "%s", msg).WithDetails(map[string]any{"errors": []ScriptError(l)})
}
