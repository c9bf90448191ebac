package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The orderUpdated subscription speaks graphql-transport-ws
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md) itself rather than
// through genqlient's WebSocket client: that client reads without a context, sends on
// unbuffered channels nobody may be reading any more, and reads its closing flag
// without a lock, so a watcher that stops early leaks a goroutine or races. The query
// and the result type are still genqlient's (OrderUpdated_Operation, OrderStatus).

const wsProtocol = "graphql-transport-ws"

// wsMessage is one graphql-transport-ws message.
type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// ErrSubscriptionEnded is returned by Watch when the server completed the subscription,
// as it does once the order has reached a final state.
var ErrSubscriptionEnded = errors.New("subscription ended")

// Watch subscribes to orderUpdated for the order and calls fn with the current state
// first and then every change, until fn returns false (Watch returns nil), ctx ends,
// the server completes the subscription (ErrSubscriptionEnded) or the connection fails.
// The client must carry a session (WithSession).
func (c *Client) Watch(ctx context.Context, orderID string, fn func(OrderStatus) bool) error {
	conn, _, err := websocket.Dial(ctx, c.endpoint, &websocket.DialOptions{
		HTTPClient:   c.wsHTTPClient(),
		Subprotocols: []string{wsProtocol},
	})
	if err != nil {
		return fmt.Errorf("open subscription: %w", err)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != wsProtocol {
		return fmt.Errorf("open subscription: server speaks %q, not %s", conn.Subprotocol(), wsProtocol)
	}

	init := map[string]string{}
	if c.token != "" {
		init["authorization"] = "Bearer " + c.token
	}
	if err := send(ctx, conn, "connection_init", "", init); err != nil {
		return err
	}
	if err := awaitAck(ctx, conn); err != nil {
		return err
	}
	const subID = "order"
	if err := send(ctx, conn, "subscribe", subID, map[string]any{
		"operationName": "OrderUpdated",
		"query":         OrderUpdated_Operation,
		"variables":     map[string]string{"id": orderID},
	}); err != nil {
		return err
	}
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read subscription: %w", err)
		}
		switch m.Type {
		case "pong":
		case "ping":
			if err := send(ctx, conn, "pong", "", nil); err != nil {
				return err
			}
		case "next":
			st, err := decodeNext(m.Payload)
			if err != nil {
				return err
			}
			if !fn(st) {
				_ = send(ctx, conn, "complete", subID, nil)
				conn.Close(websocket.StatusNormalClosure, "")
				return nil
			}
		case "error":
			var list gqlerror.List
			if err := json.Unmarshal(m.Payload, &list); err != nil || len(list) == 0 {
				return fmt.Errorf("subscribe to order: server refused: %s", m.Payload)
			}
			return fmt.Errorf("subscribe to order: %w", list)
		case "complete":
			conn.Close(websocket.StatusNormalClosure, "")
			return ErrSubscriptionEnded
		default:
			return fmt.Errorf("read subscription: unexpected message type %q", m.Type)
		}
	}
}

// awaitAck reads until the server accepts the connection; the protocol forbids
// subscribing before that.
func awaitAck(ctx context.Context, conn *websocket.Conn) error {
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return fmt.Errorf("open subscription: server closed the connection: %d %s", ce.Code, ce.Reason)
			}
			return fmt.Errorf("open subscription: %w", err)
		}
		switch m.Type {
		case "connection_ack":
			return nil
		case "ping":
			if err := send(ctx, conn, "pong", "", nil); err != nil {
				return err
			}
		default:
			return fmt.Errorf("open subscription: unexpected message type %q before connection_ack", m.Type)
		}
	}
}

func decodeNext(payload json.RawMessage) (OrderStatus, error) {
	var r struct {
		Data   *OrderUpdatedResponse `json:"data"`
		Errors gqlerror.List         `json:"errors"`
	}
	if err := json.Unmarshal(payload, &r); err != nil {
		return OrderStatus{}, fmt.Errorf("decode order update: %w", err)
	}
	if len(r.Errors) > 0 {
		return OrderStatus{}, fmt.Errorf("order update: %w", r.Errors)
	}
	if r.Data == nil {
		return OrderStatus{}, errors.New("decode order update: no data")
	}
	return r.Data.OrderUpdated, nil
}

func send(ctx context.Context, conn *websocket.Conn, typ, id string, payload any) error {
	m := wsMessage{Type: typ, ID: id}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return fmt.Errorf("encode %s: %w", typ, err)
		}
		m.Payload = b
	}
	if err := wsjson.Write(ctx, conn, m); err != nil {
		return fmt.Errorf("send %s: %w", typ, err)
	}
	return nil
}

// wsHTTPClient is the client for the WebSocket handshake: the session goes into
// connection_init, so the bearer transport is not needed (nor harmful) here.
func (c *Client) wsHTTPClient() *http.Client {
	hc := *c.hc
	if b, ok := hc.Transport.(bearer); ok {
		hc.Transport = b.base
	}
	return &hc
}
