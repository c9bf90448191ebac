// graphql-codegen configuration: types for the SPA's operations, generated from the schema
// files themselves (no introspection of a running server). `npm run codegen` rewrites
// frontend/src/gql/, which is committed; regenerating must not change it.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: [
    'graph/ent.graphqls',
    'graph/schema.graphqls',
    'graph/operator.graphqls',
    // gqlgen's built-in scalars, which the schema files use without declaring them.
    'scalar Time\nscalar Map',
  ],
  documents: ['frontend/src/**/*.{ts,tsx}', '!frontend/src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'frontend/src/gql/': {
      preset: 'client',
      presetConfig: {
        // Components read the fields they ask for directly; masking would add a hook
        // per fragment for little gain in an app this size.
        fragmentMasking: false,
      },
      config: {
        // String unions instead of TypeScript enums: no runtime objects in the bundle.
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: {
          Time: 'string',
          Cursor: 'string',
          Map: 'Record<string, unknown>',
        },
        skipTypename: false,
      },
    },
  },
};

export default config;
