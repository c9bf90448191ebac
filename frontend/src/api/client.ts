// The one GraphQL client of the SPA. urql was chosen over Apollo Client: it is small
// (its core is a fraction of Apollo's), maintained by an active team, typed end to end with
// graphql-codegen's TypedDocumentNode, and takes graphql-ws for subscriptions through one
// exchange. The document cache is enough here: the wizard follows its order through the
// orderUpdated subscription, and mutations refetch the queries whose types they touch.
import { createClient as createWsClient } from 'graphql-ws';
import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from 'urql';

/** wsUrl turns the page's origin into the WebSocket URL of the GraphQL endpoint. */
export function wsUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/query`;
}

/** UNAUTHENTICATED_EVENT is dispatched on window when the server no longer knows the session. */
export const UNAUTHENTICATED_EVENT = 'vscard:unauthenticated';

export function createApiClient(): Client {
  // The session cookie authenticates the WebSocket too; the connection opens only while a
  // subscription is running and reconnects (resubscribing) after a network hiccup.
  const ws = createWsClient({
    url: wsUrl(window.location),
    lazy: true,
    retryAttempts: 10,
    shouldRetry: () => true,
  });
  return new Client({
    url: '/query',
    // The server's CSRF rule: every POST carries Content-Type: application/json, which
    // urql sends; GET is not used so the rule applies to every request.
    preferGetMethod: false,
    fetchOptions: { credentials: 'same-origin' },
    exchanges: [
      // A session that ended (expired, signed out in another tab) makes the app ask
      // /auth/session again and show the sign-in page, instead of an error per request.
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
            window.dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
          }
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}
