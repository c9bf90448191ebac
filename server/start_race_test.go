package server_test

import (
	"sync"
	"testing"

	entorder "github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/servertest"
)

// TestOneRunningOrderPerUser starts orders for one person from many requests at once (a
// double click, two tabs, a script), in several rounds: each round exactly one starts,
// every other is refused with CONFLICT, and the store holds one running order for them.
func TestOneRunningOrderPerUser(t *testing.T) {
	env := servertest.Start(t, func(c *server.Config) { c.Limits.StartsPerMinute, c.Limits.StartBurst = 6000, 1000 })
	alice := env.SignIn(t, servertest.Alice)
	const rounds, attempts = 10, 16
	for round := range rounds {
		codes := make([]string, attempts)
		ids := make([]string, attempts)
		var wg sync.WaitGroup
		for i := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out struct{ StartProcess struct{ ID string } }
				codes[i] = codeOf(alice.Do(t.Context(), qStart, nil, &out))
				ids[i] = out.StartProcess.ID
			}()
		}
		wg.Wait()
		started := 0
		for _, c := range codes {
			switch c {
			case "":
				started++
			case "CONFLICT":
			default:
				t.Errorf("round %d: a start ended with %s, want success or CONFLICT", round, c)
			}
		}
		running := env.Server.DB.Client.Order.Query().
			Where(entorder.HasUserWith(user.Username("alice")), entorder.StateEQ(entorder.StateSTARTED)).
			CountX(systemCtx())
		if started != 1 || running != 1 {
			t.Fatalf("round %d: %d of %d starts succeeded and alice has %d running orders, want 1 and 1", round, started, attempts, running)
		}
		for i, c := range codes {
			if c == "" {
				alice.MustDo(t, qCancel, map[string]any{"id": ids[i]}, nil)
			}
		}
	}
}
