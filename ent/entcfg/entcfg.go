// Package entcfg is the one configuration of vscard's ent code generation, shared by
// ent/entc.go (what `make generate` runs) and the golden test that proves regenerating
// changes nothing.
package entcfg

import (
	"fmt"
	"path/filepath"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

// Generate writes the ent client into target and the entgql schema into schemaPath, from
// the schema package in schemaDir. gqlgenConfig is the gqlgen.yml entgql reads.
func Generate(schemaDir, target, schemaPath, gqlgenConfig string) error {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath(schemaPath),
		entgql.WithConfigPath(gqlgenConfig),
		entgql.WithWhereInputs(true),
	)
	if err != nil {
		return fmt.Errorf("create entgql extension: %w", err)
	}
	cfg := &gen.Config{
		Target:  target,
		Package: "github.com/vscard/vscard/ent",
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureIntercept,
			gen.FeatureUpsert,
			gen.FeatureVersionedMigration,
			gen.FeatureExecQuery,
			gen.FeatureLock, // SELECT … FOR UPDATE: one order in progress per person
		},
	}
	if err := entc.Generate(schemaDir, cfg, entc.Extensions(ex)); err != nil {
		return fmt.Errorf("run ent codegen: %w", err)
	}
	return nil
}

// Repo runs Generate for the repository laid out as usual, from the ent folder.
func Repo() error {
	return Generate("./schema", ".", filepath.Join("..", "graph", "ent.graphqls"), filepath.Join("..", "gqlgen.yml"))
}
