// The GraphQL playground: GraphiQL from npm, built into the SPA as a chunk of its own, so
// it loads from this server alone (no CDN: offline and behind strict proxies too) and
// under the SPA's Content-Security-Policy. Its editor is Monaco, whose workers Vite emits
// as same-origin files (graphiql/setup-workers/vite).
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';

import { Box, Title, useComputedColorScheme, VisuallyHidden } from '@mantine/core';
import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { getIntrospectionQuery } from 'graphql';
import { createClient as createWsClient } from 'graphql-ws';
import { useEffect, useMemo } from 'react';
import { useTranslation } from 'react-i18next';

import { wsUrl } from '../api/client';

const defaultQuery = `# The playground runs as you, with your session: what you may do in the app, you may
# do here, and nothing more. Ctrl-Enter runs the query; Ctrl-Space completes.
{
  me {
    username
    roles
  }
}
`;

// graphql-js asks for nine levels of type wrappers (ofType), which makes its query 15
// levels deep, past the server's depth limit (12). Six make it 12, and are more than the
// schema uses: its deepest type is [String!]!, three.
const introspectionQuery = getIntrospectionQuery({ typeDepth: 6 });

/** withShallowIntrospection sends GraphiQL's schema request within the depth limit. */
function withShallowIntrospection(fetcher: Fetcher): Fetcher {
  return (params, opts) => fetcher(params.operationName === 'IntrospectionQuery' ? { ...params, query: introspectionQuery } : params, opts);
}

export default function PlaygroundPage() {
  const { t } = useTranslation('admin');
  const scheme = useComputedColorScheme('light');
  // The session cookie authenticates both: a POST with Content-Type application/json (the
  // server's CSRF rule) and the WebSocket, whose Origin the server checks.
  const ws = useMemo(() => createWsClient({ url: wsUrl(window.location), lazy: true }), []);
  useEffect(() => () => void ws.dispose(), [ws]);
  const fetcher = useMemo(() => withShallowIntrospection(createGraphiQLFetcher({ url: '/query', wsClient: ws })), [ws]);
  return (
    // The page fills the space below the header; GraphiQL lays itself out in that box.
    <Box h="calc(100dvh - var(--app-shell-header-offset, 60px) - 2 * var(--mantine-spacing-md))" data-testid="playground">
      <VisuallyHidden>
        <Title order={1}>{t('playground.title')}</Title>
      </VisuallyHidden>
      <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} forcedTheme={scheme} />
    </Box>
  );
}
