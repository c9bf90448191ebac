package bench

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/graph"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/viewer"
)

const qCardStatus = `query($serial: String!) { cardStatus(serial: $serial) { serial state validFrom validUntil certificates { serial slot template state notAfter revokedAt } } }`

const qCardStatuses = `query($serials: [String!]!) { cardStatuses(serials: $serials) { serial state validFrom validUntil certificates { serial slot template state notAfter revokedAt } } }`

// statusBatch is how many serials one cardStatuses request carries: a portal's page of cards.
const statusBatch = 50

// statusWorkers is how many portal requests are in flight at once.
const statusWorkers = 16

// BenchmarkCardStatus looks cards up by serial as a portal would (GraphQL, bearer token
// from the identity provider, privacy rules), at 100,000 and 1,000,000 cards with two
// certificates each, next to a minimal net/http handler that runs the same SQL.
func BenchmarkCardStatus(b *testing.B) {
	for _, backend := range backends() {
		b.Run(backend, func(b *testing.B) {
			env := startServer(b, backend)
			token := portalToken(b, env)
			portal := &servertest.Client{URL: env.URL, HTTP: pooledClient(statusWorkers), Bearer: token}
			base := baselineHandler(env.Server.DB)
			baseline := httptest.NewServer(base)
			b.Cleanup(baseline.Close)
			plain := pooledClient(statusWorkers)

			seeded := 0
			for _, cards := range cardCounts(b) {
				seed(b, env.Server.DB.Client, seeded, cards)
				seeded = cards
				serial := func(i int) string { return cardSerial((i * 7919) % cards) } // spread over the table
				settle(b, env.Server.DB)
				viaGraphQL := func(_, i int) error {
					var out struct{ CardStatus *struct{ Serial string } }
					if err := portal.Do(context.Background(), qCardStatus, map[string]any{"serial": serial(i)}, &out); err != nil {
						return err
					}
					if out.CardStatus == nil || out.CardStatus.Serial != serial(i) {
						return fmt.Errorf("cardStatus(%s) = %+v", serial(i), out.CardStatus)
					}
					return nil
				}
				viaBaseline := func(_, i int) error {
					resp, err := plain.Get(baseline.URL + "/status?serial=" + serial(i))
					if err != nil {
						return err
					}
					defer resp.Body.Close()
					var out struct{ Serial string }
					if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Serial != serial(i) {
						return fmt.Errorf("baseline status(%s): %d %v", serial(i), resp.StatusCode, err)
					}
					return nil
				}
				b.Run(fmt.Sprintf("cards=%d/graphql", cards), func(b *testing.B) {
					warm(b, base, serial, b.N)
					spent := startCosts(b, env.Server.DB)
					load(b, statusWorkers, "req", viaGraphQL)
					spent.report(b, b.N, "req")
				})
				b.Run(fmt.Sprintf("cards=%d/baseline", cards), func(b *testing.B) {
					warm(b, base, serial, b.N)
					spent := startCosts(b, env.Server.DB)
					load(b, statusWorkers, "req", viaBaseline)
					spent.report(b, b.N, "req")
				})
				b.Run(fmt.Sprintf("cards=%d/ratio", cards), func(b *testing.B) {
					ratioRounds(b, base, serial, 1, viaGraphQL, viaBaseline)
				})
				// The batch form against the same baseline per serial: one operation is one
				// cardStatuses request for statusBatch cards on one side and statusBatch
				// baseline requests on the other.
				viaBatch := func(_, i int) error {
					serials := make([]string, statusBatch)
					for k := range serials {
						serials[k] = serial(i*statusBatch + k)
					}
					var out struct{ CardStatuses []*struct{ Serial string } }
					if err := portal.Do(context.Background(), qCardStatuses, map[string]any{"serials": serials}, &out); err != nil {
						return err
					}
					for k, st := range out.CardStatuses {
						if st == nil || st.Serial != serials[k] {
							return fmt.Errorf("cardStatuses: answer %d = %+v, want %s", k, st, serials[k])
						}
					}
					if len(out.CardStatuses) != statusBatch {
						return fmt.Errorf("cardStatuses: %d answers to %d serials", len(out.CardStatuses), statusBatch)
					}
					return nil
				}
				viaBaselineBatch := func(w, i int) error {
					for k := range statusBatch {
						if err := viaBaseline(w, i*statusBatch+k); err != nil {
							return err
						}
					}
					return nil
				}
				b.Run(fmt.Sprintf("cards=%d/batch-ratio", cards), func(b *testing.B) {
					ratioRounds(b, base, serial, statusBatch, viaBatch, viaBaselineBatch)
				})
			}
		})
	}
}

// cardCounts are the table sizes to measure at: VSCARD_BENCH_CARDS (comma-separated), by
// default 100,000 and 1,000,000.
func cardCounts(b *testing.B) []int {
	env := os.Getenv("VSCARD_BENCH_CARDS")
	if env == "" {
		return []int{100_000, 1_000_000}
	}
	var out []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || (len(out) > 0 && n <= out[len(out)-1]) {
			b.Fatalf("VSCARD_BENCH_CARDS=%q: want increasing counts", env)
		}
		out = append(out, n)
	}
	return out
}

// settle lets the store finish what a bulk load leaves it to do (SQLite's WAL checkpoint,
// PostgreSQL's vacuum and statistics) before anything is measured: otherwise the first
// figure after seeding, GraphQL's, pays for it and the baseline after it does not.
func settle(b *testing.B, db *store.DB) {
	b.Helper()
	stmts := []string{`PRAGMA wal_checkpoint(TRUNCATE)`, `ANALYZE`}
	if db.Dialect == dialect.Postgres {
		stmts = []string{`VACUUM ANALYZE cards`, `VACUUM ANALYZE certificates`, `VACUUM ANALYZE orders`}
	}
	for _, q := range stmts {
		if _, err := db.SQL.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
}

// ratioRounds measures the card-status ratio (GraphQL's throughput over the baseline's)
// in ten rounds of b.N/10 look-ups a side, the two sides taking turns at going first, and
// reports the median round's ratio and the lowest and highest. The shared host's speed
// drifts by 10–25% over minutes, which moves two figures taken one after the other;
// rounds taken in turn see the same drift. serialsPerOp is how many cards one operation
// reads (a batch), so that all of them are warmed.
func ratioRounds(b *testing.B, base http.Handler, serial func(int) string, serialsPerOp int, graphQL, baseline func(worker, i int) error) {
	b.Helper()
	const rounds = 10
	per := max(b.N/rounds, 1)
	warm(b, base, serial, rounds*per*serialsPerOp)
	stopProfile := profile(b)
	b.ResetTimer()
	ratios := make([]float64, rounds)
	for r := range rounds {
		sides := []func(int, int) error{graphQL, baseline}
		if r%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		var took [2]time.Duration
		for k, op := range sides {
			elapsed, _, err := run(per, r*per, statusWorkers, op)
			if err != nil {
				b.Fatal(err)
			}
			took[k] = elapsed
		}
		if r%2 == 1 {
			took[0], took[1] = took[1], took[0]
		}
		ratios[r] = took[1].Seconds() / took[0].Seconds() // baseline time over GraphQL time
	}
	b.StopTimer()
	stopProfile()
	slices.Sort(ratios)
	b.ReportMetric((ratios[rounds/2-1]+ratios[rounds/2])/2, "ratio")
	b.ReportMetric(ratios[0], "min-ratio")
	b.ReportMetric(ratios[rounds-1], "max-ratio")
}

// warm reads the first n cards that a benchmark will look up, once, through the
// baseline's SQL, so that both sides of the comparison find them in the store's caches:
// otherwise the first to run pays for reading them from disk and the second gets them
// cached.
func warm(b *testing.B, base http.Handler, serial func(int) string, n int) {
	b.Helper()
	for i := range n {
		rec := httptest.NewRecorder()
		base.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status?serial="+serial(i), nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("warm up %s: %d %s", serial(i), rec.Code, rec.Body)
		}
	}
}

func pooledClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

func cardSerial(i int) string { return fmt.Sprintf("BENCH%010d", i) }

// seed adds cards [from, to) with two certificates each, for a few thousand owners, in
// bulk through ent (privacy allowed: this is the benchmark playing administrator).
func seed(b *testing.B, client *ent.Client, from, to int) {
	b.Helper()
	ctx := viewer.AsServer(context.Background())
	t0 := time.Now()
	const owners, batch = 2000, 1000
	if from == 0 {
		users := make([]*ent.UserCreate, owners)
		for i := range users {
			users[i] = client.User.Create().SetID(fmt.Sprintf("usr_bench%06d", i)).
				SetOidcIssuer("https://idp.bench").SetOidcSubject(fmt.Sprintf("bench-%d", i)).
				SetUsername(fmt.Sprintf("owner%d", i)).SetRoles([]string{"user"})
		}
		for i := 0; i < owners; i += batch {
			client.User.CreateBulk(users[i:min(i+batch, owners)]...).ExecX(ctx)
		}
	}
	now := time.Now()
	der := make([]byte, 600) // about a P-256 certificate
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		orders := make([]*ent.OrderCreate, 0, hi-lo)
		cards := make([]*ent.CardCreate, 0, hi-lo)
		certs := make([]*ent.CertificateCreate, 0, 2*(hi-lo))
		for i := lo; i < hi; i++ {
			owner := fmt.Sprintf("usr_bench%06d", i%owners)
			oid, cid := fmt.Sprintf("ord_bench%010d", i), fmt.Sprintf("crd_bench%010d", i)
			orders = append(orders, client.Order.Create().SetID(oid).SetUserID(owner).
				SetState(order.StateCOMPLETED).SetSteps([]record.OrderStep{{State: "COMPLETED", At: now}}).
				SetExpiresAt(now).SetFinishedAt(now))
			cards = append(cards, client.Card.Create().SetID(cid).SetSerial(cardSerial(i)).
				SetState(card.StateACTIVE).SetValidFrom(now).SetValidUntil(now.AddDate(3, 0, 0)).
				SetProperties(cardspec.Properties{UserID: owner}).SetManagementKey(der[:40]).SetPuk(der[:40]).
				SetOwnerID(owner).SetOrderID(oid))
			for j, slot := range []string{"9A", "9C"} {
				tmpl := []cardspec.Template{cardspec.Authentication, cardspec.Signature}[j]
				certs = append(certs, client.Certificate.Create().SetID(fmt.Sprintf("crt_bench%010d%d", i, j)).
					SetSerial(fmt.Sprintf("%032x", 2*i+j)).SetSlot(slot).SetTemplate(tmpl).
					SetKeyAlgorithm(cardspec.ECCP256).SetSubject("CN=bench").SetIssuer("CN=bench CA").
					SetNotBefore(now).SetNotAfter(now.AddDate(3, 0, 0)).SetDer(der).SetCardID(cid).SetOrderID(oid))
			}
		}
		client.Order.CreateBulk(orders...).ExecX(ctx)
		client.Card.CreateBulk(cards...).ExecX(ctx)
		for k := 0; k < len(certs); k += batch {
			client.Certificate.CreateBulk(certs[k:min(k+batch, len(certs))]...).ExecX(ctx)
		}
	}
	b.Logf("seeded cards %d..%d in %s", from, to, time.Since(t0).Round(time.Second))
}

// baselineHandler answers GET /status?serial= with the rows the GraphQL resolver reads
// (card by serial, then its certificates, the same columns in the same two statements as
// ent sends them), in plain database/sql and encoding/json: the floor under what the API
// could cost.
func baselineHandler(db *store.DB) http.Handler {
	// The statements exactly as ent writes them (table-qualified, quoted columns), built
	// once with ent's SQL builder: the text is part of what the database parses.
	// The resolver's columns, with what ent adds: the id first, the certificates' card_id
	// (the eager load's key) last.
	cards, certs := sql.Table(card.Table), sql.Table(certificate.Table)
	cardCols := append([]string{card.FieldID}, graph.CardStatusColumns...)
	certCols := append(append([]string{certificate.FieldID}, graph.CertificateStatusColumns...), certificate.FieldCardID)
	qCard, _ := sql.Dialect(db.Dialect).Select(cards.Columns(cardCols...)...).
		From(cards).Where(sql.EQ(cards.C(card.FieldSerial), "")).Limit(2).Query()
	qCerts, _ := sql.Dialect(db.Dialect).Select(certs.Columns(certCols...)...).
		From(certs).Where(sql.In(certs.C(certificate.FieldCardID), "")).Query()
	type certStatus struct {
		Serial    string     `json:"serial"`
		Slot      string     `json:"slot"`
		Template  string     `json:"template"`
		State     string     `json:"state"`
		NotAfter  time.Time  `json:"notAfter"`
		RevokedAt *time.Time `json:"revokedAt"`
	}
	type cardStatus struct {
		Serial       string       `json:"serial"`
		State        string       `json:"state"`
		ValidFrom    time.Time    `json:"validFrom"`
		ValidUntil   time.Time    `json:"validUntil"`
		Certificates []certStatus `json:"certificates"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var (
			c  cardStatus
			id string
		)
		err := db.SQL.QueryRowContext(ctx, qCard, r.URL.Query().Get("serial")).Scan(&id, &c.Serial, &c.State, &c.ValidFrom, &c.ValidUntil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		rows, err := db.SQL.QueryContext(ctx, qCerts, id)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var (
				s           certStatus
				cid, cardID string
				revoked     stdsql.NullTime
			)
			if err := rows.Scan(&cid, &s.Serial, &s.Slot, &s.Template, &s.State, &s.NotAfter, &revoked, &cardID); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			if revoked.Valid {
				s.RevokedAt = &revoked.Time
			}
			c.Certificates = append(c.Certificates, s)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c)
	})
}
