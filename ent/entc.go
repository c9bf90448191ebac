//go:build ignore

// entc.go generates the ent client, the entgql GraphQL schema (graph/ent.graphqls) and its
// gqlgen glue from ent/schema. `make generate` runs it; never edit the output by hand.
package main

import (
	"log"

	"github.com/vscard/vscard/ent/entcfg"
)

func main() {
	if err := entcfg.Repo(); err != nil {
		log.Fatal(err)
	}
}
