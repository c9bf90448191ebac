// Package api is the desktop bridge's client of the vscard server's GraphQL API.
//
// The typed operations in generated.go are produced by genqlient from the server's
// schema (graph/*.graphqls) and the bridge's operations (operations.graphql); run
// `go tool genqlient` at the repository root after changing either. Client adds what
// genqlient leaves to its user: the endpoint, the bridge session's bearer token, error
// codes (Code), and the orderUpdated subscription over graphql-transport-ws (Watch).
package api
