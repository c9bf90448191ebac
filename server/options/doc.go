// Package options evaluates the administrator's option script (Starlark) into a
// [cardspec.Options] for one order: PIN policy, certificates, validity and user properties.
// The values themselves live in server/cardspec, so that the packages that store or enforce
// them (ent, the desktop bridge) do not link the interpreter; this package is the evaluator.
//
// # The script
//
// [DefaultScript] is created on first start. Administrators edit its constants (PIN_MIN_LENGTH,
// CERTIFICATES, VALIDITY, ...) or the function options(user, env), which returns a dict:
//
//	{
//	    "pin": {"min_length": 6, "max_length": 8, "upper_case": DISALLOWED, ...},
//	    "certificates": {AUTHENTICATION: ECCP256, SIGNATURE: ECCP256, ENCRYPTION: None},
//	    "validity": {"years": 2},
//	    "properties": {"user_id": user.email, "common_name": user.display_name, ...},
//	}
//
// Keys are snake_case, as is usual in Starlark; the JSON names of [cardspec.Options] stay camelCase.
// Every value is checked ([cardspec.PINPolicy] within PIV's 6 to 8 characters, retries 1 to 10, known
// key algorithms, unique slots, ...) and each problem is reported with the line and column an
// administrator must edit: for "pin.max_length" that is the PIN_MAX_LENGTH constant when the
// returned dict names it.
//
// # Sandbox
//
// A script sees only the names the package provides: Starlark's builtins, the constants
// ALLOWED, REQUIRED, DISALLOWED, AUTHENTICATION, SIGNATURE, ENCRYPTION, ECCP256, ECCP384 and
// RSA2048, and its two arguments. It cannot load other files or reach files, the network or
// the clock, and [Limits] bound each evaluation:
//
//   - steps: Starlark's step counter, plus one step per element a builtin iterates, so that
//     max(range(10**12)) counts as the loop it is;
//   - time: a wall-clock limit that also honours the caller's context;
//   - memory: Starlark has no memory limit and a single operation ("a" * 1000000000) can
//     allocate gigabytes, so compilation rewrites every operator, slice and copying method
//     into a guard that charges the size of its result against a budget before it runs.
//
// The sandbox fails closed: a builtin or method it has no cost for is refused, not run
// unmetered.
//
// Errors are *errs.Error values with code errs.ScriptError; their Details["errors"] hold the
// [ScriptError] list for the GraphQL presenter.
//
// # PIN checks
//
// [cardspec.PINPolicy.Check] lives in server/cardspec, without Starlark: the desktop bridge
// imports it to explain a refused PIN rule by rule.
package options
