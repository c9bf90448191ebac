package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Khan/genqlient/graphql"
)

// Client talks to one vscard server. The zero value is not usable; call New.
type Client struct {
	endpoint string
	hc       *http.Client
	token    string
	gql      graphql.Client
}

// New returns a client of the server at serverURL (the URL from the hand-off link,
// without /query). hc is used for every request; nil means http.DefaultClient.
func New(serverURL string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("parse server URL %q: not an http(s) URL", serverURL)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	endpoint := strings.TrimRight(u.String(), "/") + "/query"
	c := &Client{endpoint: endpoint, hc: hc}
	c.gql = graphql.NewClient(endpoint, hc)
	return c, nil
}

// WithSession returns a client that sends the bridge session token (vsb_...) as bearer
// token with every request and subscription.
func (c *Client) WithSession(token string) *Client {
	hc := *c.hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = bearer{token: token, base: base}
	s := &Client{endpoint: c.endpoint, hc: &hc, token: token}
	s.gql = graphql.NewClient(s.endpoint, &hc)
	return s
}

// GraphQL returns the client for the generated operations, e.g.
// api.ClaimOrder(ctx, c.GraphQL(), ...).
func (c *Client) GraphQL() graphql.Client { return c.gql }

// Endpoint returns the GraphQL endpoint URL.
func (c *Client) Endpoint() string { return c.endpoint }

// bearer adds the Authorization header. It clones the request, as a RoundTripper must
// not change the one it is given.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}
