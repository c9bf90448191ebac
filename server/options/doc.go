// Package options evaluates the administrator's option script (Starlark) into Options for one
// order: PIN policy, certificates, validity and user properties.
package options
