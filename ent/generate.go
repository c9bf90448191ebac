// Package ent is the generated data layer. Only ent/schema is written by hand.
package ent

//go:generate go run -mod=mod entc.go
