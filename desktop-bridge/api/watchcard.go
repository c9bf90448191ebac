package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// WatchCard subscribes to cardUpdated for a card the Desktop App proved it holds (proof
// answers a fresh cardChallenge) and calls fn with the card's state first and then on
// every change, until fn returns false (nil), ctx ends, the server completes the
// subscription (ErrSubscriptionEnded, as it does once the card must leave) or the
// connection fails. It speaks graphql-transport-ws as Watch does; no session is needed.
func (c *Client) WatchCard(ctx context.Context, proof CardProofInput, fn func(CardSyncState) bool) error {
	conn, _, err := websocket.Dial(ctx, c.endpoint, &websocket.DialOptions{
		HTTPClient:   c.wsHTTPClient(),
		Subprotocols: []string{wsProtocol},
	})
	if err != nil {
		return fmt.Errorf("open card subscription: %w", err)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != wsProtocol {
		return fmt.Errorf("open card subscription: server speaks %q, not %s", conn.Subprotocol(), wsProtocol)
	}
	// No session: the server accepts such a connection for subscriptions that prove
	// their card.
	if err := send(ctx, conn, "connection_init", "", map[string]any{"cardProof": true}); err != nil {
		return err
	}
	if err := awaitAck(ctx, conn); err != nil {
		return err
	}
	const subID = "card"
	if err := send(ctx, conn, "subscribe", subID, map[string]any{
		"operationName": "CardUpdated",
		"query":         CardUpdated_Operation,
		"variables":     map[string]any{"serial": proof.Serial, "proof": proof},
	}); err != nil {
		return err
	}
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, conn, &m); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read card subscription: %w", err)
		}
		switch m.Type {
		case "pong":
		case "ping":
			if err := send(ctx, conn, "pong", "", nil); err != nil {
				return err
			}
		case "next":
			var r struct {
				Data   *CardUpdatedResponse `json:"data"`
				Errors gqlerror.List        `json:"errors"`
			}
			if err := json.Unmarshal(m.Payload, &r); err != nil {
				return fmt.Errorf("decode card update: %w", err)
			}
			if len(r.Errors) > 0 {
				return fmt.Errorf("card update: %w", r.Errors)
			}
			if r.Data == nil {
				return errors.New("decode card update: no data")
			}
			if !fn(r.Data.CardUpdated) {
				_ = send(ctx, conn, "complete", subID, nil)
				conn.Close(websocket.StatusNormalClosure, "")
				return nil
			}
		case "error":
			var list gqlerror.List
			if err := json.Unmarshal(m.Payload, &list); err != nil || len(list) == 0 {
				return fmt.Errorf("subscribe to card: server refused: %s", m.Payload)
			}
			return fmt.Errorf("subscribe to card: %w", list)
		case "complete":
			conn.Close(websocket.StatusNormalClosure, "")
			return ErrSubscriptionEnded
		default:
			return fmt.Errorf("read card subscription: unexpected message type %q", m.Type)
		}
	}
}
