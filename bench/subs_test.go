package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/viewer"
)

// subscribers is how many portals follow an order at once, each on its own WebSocket
// (VSCARD_BENCH_SUBSCRIBERS, default 10,000).
var subscribers = func() int {
	if n, err := strconv.Atoi(os.Getenv("VSCARD_BENCH_SUBSCRIBERS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}()

const (
	// changeWorkers is how many state changes are in flight at once.
	changeWorkers = 4

	qFollow = `subscription($id: ID!) { orderUpdated(id: $id) { id state } }`
	qCancel = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "bench") { state } }`

	subscriberEnv = "VSCARD_BENCH_SUBSCRIBER"
)

// subscriberConfig is what the parent tells the subscriber process.
type subscriberConfig struct {
	URL     string
	Cookies []string // name=value
	Orders  []string
}

// BenchmarkSubscriptions opens 10,000 graphql-transport-ws subscriptions on one instance,
// each following an order of its own, from a child process (so that this process's
// memory is the server's). Then b.N orders change state (cancelled through the API, a few
// at a time) and each change is timed from the request to its delivery to the subscriber.
// It reports the server's memory and goroutines per open subscription.
func BenchmarkSubscriptions(b *testing.B) {
	raiseFileLimit(b)
	for _, backend := range backends() {
		b.Run(backend, func(b *testing.B) {
			env := startServer(b, backend, withUsers(b, 1))
			owner := env.SignIn(b, servertest.Credentials{Username: benchUser(0), Password: "pw"})
			owner.HTTP.Transport = pooledClient(changeWorkers).Transport
			ids := seedOrders(b, env.Server.DB.Client, benchUser(0), subscribers)

			before := serverMemory()
			child := startSubscribers(b, env, owner, ids)
			after := serverMemory()
			b.Logf("%d subscriptions open: server heap+stacks %+.1f MiB, goroutines %+d",
				subscribers, float64(after.bytes-before.bytes)/(1<<20), after.goroutines-before.goroutines)

			next := 0 // the next order to change; each is changed once
			b.Run(fmt.Sprintf("subscribers=%d", subscribers), func(b *testing.B) {
				if next+b.N > len(ids) {
					b.Fatalf("%d changes asked, %d orders left: lower -benchtime", b.N, len(ids)-next)
				}
				batch := ids[next : next+b.N]
				next += b.N
				lat := child.measure(b, owner, batch)
				b.ReportMetric(float64(after.bytes-before.bytes)/float64(subscribers)/1024, "server-KiB/sub")
				b.ReportMetric(float64(after.goroutines-before.goroutines)/float64(subscribers), "goroutines/sub")
				reportLatency(b, lat)
			})
		})
	}
}

type memory struct {
	bytes      uint64
	goroutines int
}

func serverMemory() memory {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{bytes: m.HeapInuse + m.StackInuse, goroutines: runtime.NumGoroutine()}
}

func raiseFileLimit(tb testing.TB) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	if lim.Cur < uint64(subscribers)+1000 {
		tb.Skipf("open-file limit %d is below %d subscriptions: raise it (ulimit -n)", lim.Cur, subscribers)
	}
}

// seedOrders creates n orders in progress for username, in bulk through ent.
func seedOrders(b *testing.B, client *ent.Client, username string, n int) []string {
	b.Helper()
	ctx := viewer.AsServer(context.Background())
	u := client.User.Query().Where(user.Username(username)).OnlyX(ctx)
	now := time.Now()
	ids := make([]string, n)
	for lo := 0; lo < n; lo += 1000 {
		hi := min(lo+1000, n)
		creates := make([]*ent.OrderCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			ids[i] = fmt.Sprintf("ord_sub%08d", i)
			creates = append(creates, client.Order.Create().SetID(ids[i]).SetUserID(u.ID).SetState(order.StateSTARTED).
				SetSteps([]record.OrderStep{{State: "STARTED", At: now}}).SetExpiresAt(now.Add(time.Hour)))
		}
		client.Order.CreateBulk(creates...).ExecX(ctx)
	}
	return ids
}

// subscriberProcess is the child that holds the subscriptions.
type subscriberProcess struct {
	mu      sync.Mutex
	waiting map[string]chan time.Time
}

func startSubscribers(b *testing.B, env *servertest.Env, owner *servertest.Client, ids []string) *subscriberProcess {
	b.Helper()
	cfg := subscriberConfig{URL: env.URL, Orders: ids, Cookies: sessionCookies(owner)}
	path := b.TempDir() + "/subscribers.json"
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSubscriberProcess$", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), subscriberEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); _ = cmd.Wait() })
	p := &subscriberProcess{waiting: map[string]chan time.Time{}}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if line == "READY" {
				close(ready)
				continue
			}
			id, nanos, ok := strings.Cut(line, " ")
			if !ok {
				continue
			}
			n, _ := strconv.ParseInt(nanos, 10, 64)
			p.mu.Lock()
			ch := p.waiting[id]
			p.mu.Unlock()
			if ch != nil {
				select {
				case ch <- time.Unix(0, n):
				default:
				}
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Minute):
		b.Fatal("subscriber process did not get ready")
	}
	return p
}

// measure cancels each order in batch and returns, per order, the time from sending the
// change to its delivery to the subscriber.
func (p *subscriberProcess) measure(b *testing.B, owner *servertest.Client, batch []string) []time.Duration {
	b.Helper()
	lat := make([]time.Duration, len(batch))
	var g errgroup.Group
	g.SetLimit(changeWorkers)
	b.ResetTimer()
	for i, id := range batch {
		ch := make(chan time.Time, 1)
		p.mu.Lock()
		p.waiting[id] = ch
		p.mu.Unlock()
		g.Go(func() error {
			t0 := time.Now()
			if err := owner.Do(context.Background(), qCancel, map[string]any{"id": id}, nil); err != nil {
				return fmt.Errorf("cancel %s: %w", id, err)
			}
			select {
			case at := <-ch:
				lat[i] = at.Sub(t0)
			case <-time.After(time.Minute):
				return fmt.Errorf("order %s: no update within a minute", id)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	return lat
}

// TestSubscriberProcess is the subscriber side of BenchmarkSubscriptions, run in a child
// process; it does nothing in a normal test run.
func TestSubscriberProcess(t *testing.T) {
	path := os.Getenv(subscriberEnv)
	if path == "" {
		t.Skip("runs as BenchmarkSubscriptions' child process")
	}
	raiseFileLimit(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg subscriberConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	client := withCookies(cfg.URL, cfg.Cookies)

	lines := make(chan string, 1024)
	go func() {
		w := bufio.NewWriter(os.Stdout)
		for l := range lines {
			w.WriteString(l + "\n")
			if len(lines) == 0 {
				w.Flush()
			}
		}
	}()
	ctx := context.Background()
	var g errgroup.Group
	g.SetLimit(64) // dial a few at a time
	for _, id := range cfg.Orders {
		g.Go(func() error {
			sub, err := client.Subscribe(ctx, qFollow, map[string]any{"id": id})
			if err != nil {
				return fmt.Errorf("subscribe to %s: %w", id, err)
			}
			if _, ok := <-sub.Next; !ok { // the current state
				return fmt.Errorf("subscription to %s ended: %v", id, *sub.Err)
			}
			go func() {
				for range sub.Next {
					lines <- id + " " + strconv.FormatInt(time.Now().UnixNano(), 10)
				}
			}()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	lines <- "READY"
	select {} // until the parent ends us
}
