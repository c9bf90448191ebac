package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/store/storetest"
)

// backends are the stores each benchmark runs on, by name.
func backends() []string {
	if storetest.Postgres() != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// startServer runs a server on the named backend.
func startServer(b *testing.B, backend string, opts ...servertest.Option) *servertest.Env {
	b.Helper()
	dsn := ""
	if backend == "postgres" {
		dsn = storetest.PostgresDatabase(b)
	}
	return servertest.Start(b, append([]servertest.Option{servertest.WithDatabase(dsn)}, opts...)...)
}

// withUsers gives the development provider n extra active users, user0000…, password
// "pw", so that load can come from many people (each may have one order in progress and
// start a limited number per minute).
func withUsers(b *testing.B, n int) servertest.Option {
	b.Helper()
	var y strings.Builder
	y.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&y, "  - {username: %s, subject: bench-%06d, password: pw, name: Bench User %d, email: %s@vscard.test, state: ACTIVE}\n",
			benchUser(i), i, i, benchUser(i))
	}
	y.WriteString("  - {username: admin, subject: bench-admin, password: admin-demo, name: Bench Admin, email: admin@vscard.test, state: ACTIVE, groups: [vscard-admins]}\n")
	path := filepath.Join(b.TempDir(), "users.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return func(c *server.Config) { c.DevIDPUsersFile = path }
}

func benchUser(i int) string { return fmt.Sprintf("user%04d", i) }

// sessionCookies are the cookies a signed-in client sends to its server, as name=value,
// for a child process to sign in with (withCookies).
func sessionCookies(c *servertest.Client) []string {
	u, _ := url.Parse(c.URL)
	var out []string
	for _, k := range c.HTTP.Jar.Cookies(u) {
		out = append(out, k.Name+"="+k.Value)
	}
	return out
}

// withCookies is a client of the server at serverURL that sends cookies (name=value, from
// sessionCookies).
func withCookies(serverURL string, cookies []string) *servertest.Client {
	u, _ := url.Parse(serverURL)
	jar, _ := cookiejar.New(nil)
	var cs []*http.Cookie
	for _, c := range cookies {
		name, value, _ := strings.Cut(c, "=")
		cs = append(cs, &http.Cookie{Name: name, Value: value})
	}
	jar.SetCookies(u, cs)
	return &servertest.Client{URL: serverURL, HTTP: &http.Client{Jar: jar}}
}

// portalToken gets an access token for the demo portal from the development provider
// with the client-credentials grant.
func portalToken(b *testing.B, env *servertest.Env) string {
	b.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"cards:read"}}
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/dev/idp/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-portal", "demo-portal-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		b.Fatalf("portal token: %d %v %s", resp.StatusCode, err, out.Error)
	}
	return out.AccessToken
}

// load runs op b.N times from workers goroutines and reports throughput and latency.
// op gets the worker number and the operation number.
func load(b *testing.B, workers int, unit string, op func(worker, i int) error) {
	b.Helper()
	stopProfile := profile(b)
	b.ResetTimer()
	elapsed, lat, err := run(b.N, 0, workers, op)
	b.StopTimer()
	stopProfile()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit+"/s")
	reportLatency(b, lat)
}

// run calls op for operations from, from+1, … from+n-1, from workers goroutines, and
// returns how long that took and each call's latency. The first error stops it.
func run(n, from, workers int, op func(worker, i int) error) (time.Duration, []time.Duration, error) {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, n)
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, n/workers+1)
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				t0 := time.Now()
				err := op(w, from+i)
				local = append(local, time.Since(t0))
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n)) // stop everyone
					break
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return time.Since(start), lat, first
}

// profile writes a CPU profile of the measured part of b, and of nothing else (not the
// seeding, not the sign-ins), to $VSCARD_BENCH_PROFILES/<benchmark name>.pprof when that
// variable names a directory, and the heap profile before and after it to
// <name>.allocs-before.pprof and <name>.allocs.pprof: what the measured part allocated is
// the difference (go tool pprof -sample_index=alloc_space -diff_base …allocs-before.pprof
// …allocs.pprof). The server runs in this process, so the profiles have its side of every
// request, and the client's too where the client runs here (all but enrolment).
func profile(b *testing.B) (stop func()) {
	b.Helper()
	dir := os.Getenv("VSCARD_BENCH_PROFILES")
	if dir == "" {
		return func() {}
	}
	name := filepath.Join(dir, profileName(b))
	writeHeap(b, name+".allocs-before.pprof")
	f, err := os.Create(name + ".pprof")
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatalf("start CPU profile (not together with -cpuprofile): %v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
		writeHeap(b, name+".allocs.pprof")
	}
}

// profileName is how b's files in $VSCARD_BENCH_PROFILES are named.
func profileName(b *testing.B) string {
	return strings.NewReplacer("/", "_", "=", "-").Replace(b.Name())
}

func writeHeap(b *testing.B, path string) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// reportLatency reports the median and 99th percentile in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
