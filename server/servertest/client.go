package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Client talks GraphQL to the server as one caller.
type Client struct {
	URL    string
	HTTP   *http.Client
	Bearer string
}

func newClient(url string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{URL: url, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e Error) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Errors is a GraphQL response's error list.
type Errors []Error

func (es Errors) Error() string {
	var parts []string
	for _, e := range es {
		parts = append(parts, e.Code()+": "+e.Message)
	}
	return strings.Join(parts, "; ")
}

// Code returns the first error's code, or "".
func (es Errors) Code() string {
	if len(es) == 0 {
		return ""
	}
	return es[0].Code()
}

type request struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors Errors          `json:"errors"`
}

// Do runs a query or mutation and decodes data into out (may be nil). A GraphQL error
// comes back as Errors.
func (c *Client) Do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(request{Query: query, Variables: vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/query", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("post query: %w", err)
	}
	defer resp.Body.Close()
	var r response
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("decode response (status %d): %w", resp.StatusCode, err)
	}
	if len(r.Errors) > 0 {
		return r.Errors
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

// MustDo is Do that fails the test on any error.
func (c *Client) MustDo(tb testing.TB, query string, vars map[string]any, out any) {
	tb.Helper()
	if err := c.Do(context.Background(), query, vars, out); err != nil {
		tb.Fatalf("graphql: %v\nquery: %s", err, query)
	}
}

// Subscription is a running graphql-transport-ws subscription.
type Subscription struct {
	// Next delivers each payload's data; it is closed when the server completes the
	// subscription or the connection ends.
	Next <-chan json.RawMessage
	// Err holds the error that ended the subscription, if any, once Next is closed.
	Err *Errors
	// Closed is, once Next is closed, the status of the server's close frame if the
	// connection ended with one, and -1 if it was cut or is still open.
	Closed *websocket.StatusCode
	conn   *websocket.Conn
}

// Close ends the subscription.
func (s *Subscription) Close() { s.conn.Close(websocket.StatusNormalClosure, "done") }

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Subscribe starts a subscription over WebSocket with this client's cookie or bearer.
// It lives until the server ends it, Close is called or ctx ends; a reader that stops
// reading Next does not keep its goroutine blocked past ctx.
func (c *Client) Subscribe(ctx context.Context, query string, vars map[string]any) (*Subscription, error) {
	wsURL := "ws" + strings.TrimPrefix(c.URL, "http") + "/query"
	h := http.Header{}
	if u, err := http.NewRequest(http.MethodGet, c.URL, nil); err == nil {
		for _, ck := range c.HTTP.Jar.Cookies(u.URL) {
			h.Add("Cookie", ck.Name+"="+ck.Value)
		}
	}
	h.Set("Origin", c.URL)
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPHeader: h, Subprotocols: []string{"graphql-transport-ws"},
	})
	if err != nil {
		return nil, fmt.Errorf("dial websocket: %w", err)
	}
	init := map[string]any{}
	if c.Bearer != "" {
		init["authorization"] = "Bearer " + c.Bearer
	}
	payload, _ := json.Marshal(init)
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: payload}); err != nil {
		return nil, fmt.Errorf("send connection_init: %w", err)
	}
	var ack wsMessage
	if err := wsjson.Read(ctx, conn, &ack); err != nil || ack.Type != "connection_ack" {
		conn.Close(websocket.StatusPolicyViolation, "no ack")
		return nil, fmt.Errorf("connection_init: got %q: %v", ack.Type, err)
	}
	sub, _ := json.Marshal(request{Query: query, Variables: vars})
	if err := wsjson.Write(ctx, conn, wsMessage{ID: "1", Type: "subscribe", Payload: sub}); err != nil {
		return nil, fmt.Errorf("send subscribe: %w", err)
	}
	next := make(chan json.RawMessage, 64)
	closed := websocket.StatusCode(-1)
	s := &Subscription{Next: next, Err: &Errors{}, Closed: &closed, conn: conn}
	go func() {
		defer close(next)
		for {
			var m wsMessage
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				closed = websocket.CloseStatus(err)
				return
			}
			switch m.Type {
			case "next":
				var r response
				_ = json.Unmarshal(m.Payload, &r)
				if len(r.Errors) > 0 {
					*s.Err = r.Errors
					return
				}
				select {
				case next <- r.Data:
				case <-ctx.Done():
					conn.CloseNow()
					return
				}
			case "error":
				_ = json.Unmarshal(m.Payload, s.Err)
				return
			case "complete":
				return
			case "ping":
				_ = wsjson.Write(ctx, conn, wsMessage{Type: "pong"})
			}
		}
	}()
	return s, nil
}
