package bench

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/store"
)

// ocspWorkers is how many OCSP requests are in flight at once.
const ocspWorkers = 16

// ocspHot is how many certificates the "hot" scenario asks about, over and over: the
// certificates in use at the moment, whose responses the CA has pre-produced.
const ocspHot = 10_000

// caRecordCount is how many certificates the CA has issued in the OCSP and CRL
// benchmarks: VSCARD_BENCH_CA_RECORDS, by default 1,000,000. Every tenth is revoked.
func caRecordCount(b *testing.B) int {
	if s := os.Getenv("VSCARD_BENCH_CA_RECORDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10*ocspHot/9 {
			b.Fatalf("VSCARD_BENCH_CA_RECORDS=%q: want a count above %d", s, 10*ocspHot/9)
		}
		return n
	}
	return 1_000_000
}

// caSerial is the serial (formatSerial's form) of the i-th seeded record, 1-based; the
// seeding SQL computes the same. The last hex digit (the CRL partition) is spread evenly
// over the revoked tenth as over the rest.
func caSerial(i int) string {
	return strconv.FormatInt(1<<40+int64(i)*16*1_000_003+int64((i/10+i)%16), 16)
}

// seedCARecords inserts n CA records in one statement, every tenth revoked
// (keyCompromise), straight into the table: the CA's own path signs each certificate,
// which at a million would take most of an hour.
func seedCARecords(b *testing.B, db *store.DB, n int) {
	b.Helper()
	t0 := time.Now()
	now := time.Now().UTC().Truncate(time.Second)
	var q string
	if db.Dialect == dialect.Postgres {
		q = `INSERT INTO ca_records (id, created_at, updated_at, serial, reference, template, subject,
			not_before, not_after, state, der, revoked_at, revocation_reason)
			SELECT 'car_bench' || g, $1::timestamptz, $1::timestamptz, to_hex(1099511627776 + g::bigint * 16 * 1000003 + (g / 10 + g) % 16), 'ord_bench', 'AUTHENTICATION', 'CN=bench',
				$1::timestamptz, $2::timestamptz, CASE WHEN g % 10 = 0 THEN 'REVOKED' ELSE 'VALID' END, '\x00'::bytea,
				CASE WHEN g % 10 = 0 THEN $1::timestamptz END, CASE WHEN g % 10 = 0 THEN 1 END
			FROM generate_series(1, $3::int) AS g`
	} else {
		q = `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ?3)
			INSERT INTO ca_records (id, created_at, updated_at, serial, reference, template, subject,
				not_before, not_after, state, der, revoked_at, revocation_reason)
			SELECT 'car_bench' || g, ?1, ?1, printf('%x', 1099511627776 + g * 16 * 1000003 + (g / 10 + g) % 16), 'ord_bench', 'AUTHENTICATION', 'CN=bench',
				?1, ?2, CASE WHEN g % 10 = 0 THEN 'REVOKED' ELSE 'VALID' END, x'00',
				CASE WHEN g % 10 = 0 THEN ?1 END, CASE WHEN g % 10 = 0 THEN 1 END
			FROM s`
	}
	if _, err := db.SQL.Exec(q, now, now.AddDate(3, 0, 0), n); err != nil {
		b.Fatalf("seed CA records: %v", err)
	}
	stmts := []string{`PRAGMA wal_checkpoint(TRUNCATE)`, `ANALYZE`}
	if db.Dialect == dialect.Postgres {
		stmts = []string{`VACUUM ANALYZE ca_records`}
	}
	for _, q := range stmts {
		if _, err := db.SQL.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	b.Logf("seeded %d CA records in %s", n, time.Since(t0).Round(time.Second))
}

// ocspGET is the GET URL path of an OCSP request for serial.
func ocspGET(b *testing.B, issuer *x509.Certificate, serial *big.Int) string {
	req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: serial}, issuer, nil)
	if err != nil {
		b.Fatal(err)
	}
	return "/ca/ocsp/" + base64.StdEncoding.EncodeToString(req)
}

// BenchmarkRevocation measures what relying parties cost with 1,000,000 certificates in
// the CA's records, every tenth revoked. OCSP GETs, 16 in flight, next to a minimal
// net/http handler that writes a fixed, pre-made response of the same size: for the
// certificates in use (ocsp-hot, answered from memory), for random recorded ones
// (ocsp-spread: most need a read and a signature) and for random serials the CA never
// issued (ocsp-unknown: a signature, no read). Then the CRL: signing the whole one and
// one partition after a change, and their sizes.
func BenchmarkRevocation(b *testing.B) {
	for _, backend := range backends() {
		b.Run(backend, func(b *testing.B) {
			env := startServer(b, backend)
			<-env.Server.CA.OCSPFilterLoaded()
			n := caRecordCount(b)
			seedCARecords(b, env.Server.DB, n)
			t0 := time.Now()
			<-env.Server.CA.ReloadOCSPFilter()
			b.Logf("loaded the filter of %d serials in %s", n, time.Since(t0).Round(time.Millisecond))
			issuer := env.Server.CA.Chain()[0]
			client := pooledClient(ocspWorkers)

			hot := make([]string, ocspHot)
			for i := range hot {
				s, _ := new(big.Int).SetString(caSerial(1+i*(n/ocspHot)), 16)
				hot[i] = ocspGET(b, issuer, s)
			}
			// The baseline writes a response of the size vscard's are.
			sample := fetchOCSP(b, client, env.URL+hot[0])
			fixed := make([]byte, len(sample))
			copy(fixed, sample)
			baseline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/ocsp-response")
				w.Header().Set("Content-Length", strconv.Itoa(len(fixed)))
				w.Write(fixed)
			}))
			b.Cleanup(baseline.Close)
			get := func(base string, paths func(i int) string) func(_, i int) error {
				return func(_, i int) error {
					body := fetchOCSP(nil, client, base+paths(i))
					if body == nil {
						return fmt.Errorf("GET %s failed", paths(i))
					}
					return nil
				}
			}
			hotPath := func(i int) string { return hot[i%len(hot)] }
			for i := range hot { // pre-produce every hot response
				if fetchOCSP(b, client, env.URL+hot[i]) == nil {
					b.Fatal("warm up failed")
				}
			}
			b.Run("ocsp-hot", func(b *testing.B) {
				alternate(b, get(env.URL, hotPath), get(baseline.URL, hotPath))
			})

			spread := func(b *testing.B) func(int) string {
				paths := make([]string, b.N)
				for i := range paths {
					r, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
					s, _ := new(big.Int).SetString(caSerial(1+int(r.Int64())), 16)
					paths[i] = ocspGET(b, issuer, s)
				}
				return func(i int) string { return paths[i%len(paths)] }
			}
			b.Run("ocsp-spread", func(b *testing.B) {
				alternate(b, get(env.URL, spread(b)), get(baseline.URL, hotPath))
			})
			unknown := func(b *testing.B) func(int) string {
				paths := make([]string, b.N)
				for i := range paths {
					s, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
					paths[i] = ocspGET(b, issuer, s.Add(s, new(big.Int).Lsh(big.NewInt(1), 120)))
				}
				return func(i int) string { return paths[i%len(paths)] }
			}
			b.Run("ocsp-unknown", func(b *testing.B) {
				spent := startCosts(b, env.Server.DB)
				alternate(b, get(env.URL, unknown(b)), get(baseline.URL, hotPath))
				spent.report(b, b.N, "req")
			})
			k, u := env.Server.CA.OCSPCached()
			b.Logf("responses in memory: %d certificates, %d unknown serials", k, u)
			held := 0 // certificates put on hold so far, to change the CRL each round
			b.Run("crl", func(b *testing.B) { crlCosts(b, env.Server.CA, n, &held) })
		})
	}
}

// fetchOCSP GETs url and returns the body, or nil (failing b, if given) when the answer
// is not a 200 OCSP response.
func fetchOCSP(b *testing.B, client *http.Client, url string) []byte {
	resp, err := client.Get(url)
	if err != nil {
		if b != nil {
			b.Fatal(err)
		}
		return nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || len(body) < 100 {
		if b != nil {
			b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
		}
		return nil
	}
	return body
}

// alternate measures side a against baseline in ten rounds of b.N/10 requests each, the
// two taking turns at going first (as ratioRounds does for card status), and reports
// each side's requests per second over all rounds and the median round's ratio.
func alternate(b *testing.B, a, baseline func(worker, i int) error) {
	b.Helper()
	const rounds = 10
	per := max(b.N/rounds, 1)
	stopProfile := profile(b)
	b.ResetTimer()
	ratios := make([]float64, rounds)
	var total [2]time.Duration
	for r := range rounds {
		sides := []func(int, int) error{a, baseline}
		if r%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		var took [2]time.Duration
		for k, op := range sides {
			elapsed, _, err := run(per, r*per, ocspWorkers, op)
			if err != nil {
				b.Fatal(err)
			}
			took[k] = elapsed
		}
		if r%2 == 1 {
			took[0], took[1] = took[1], took[0]
		}
		total[0] += took[0]
		total[1] += took[1]
		ratios[r] = took[1].Seconds() / took[0].Seconds()
	}
	b.StopTimer()
	stopProfile()
	slices.Sort(ratios)
	b.ReportMetric(float64(rounds*per)/total[0].Seconds(), "req/s")
	b.ReportMetric(float64(rounds*per)/total[1].Seconds(), "baseline-req/s")
	b.ReportMetric((ratios[rounds/2-1]+ratios[rounds/2])/2, "ratio")
	b.ReportMetric(ratios[0], "min-ratio")
	b.ReportMetric(ratios[rounds-1], "max-ratio")
}

// crlCosts signs the whole CRL and one partition after a change (a certificate put on
// hold), three times each whatever b.N, and reports the median time and the sizes.
func crlCosts(b *testing.B, authority *ca.CA, n int, held *int) {
	ctx := context.Background()
	const rounds = 3
	var full, part []time.Duration
	var fullSize, partSize int
	for range rounds {
		serial := caSerial(1 + 10**held + 1) // not among the revoked tenths
		*held++
		if err := authority.Revoke(ctx, serial, ocsp.CertificateHold); err != nil {
			b.Fatal(err)
		}
		p, _ := strconv.ParseUint(serial[len(serial)-1:], 16, 8)
		t0 := time.Now()
		der, err := authority.CRL(ctx)
		if err != nil {
			b.Fatal(err)
		}
		full, fullSize = append(full, time.Since(t0)), len(der)
		t0 = time.Now()
		if der, err = authority.PartitionCRL(ctx, int(p)); err != nil {
			b.Fatal(err)
		}
		part, partSize = append(part, time.Since(t0)), len(der)
	}
	slices.Sort(full)
	slices.Sort(part)
	b.ReportMetric(ms(full[rounds/2]), "full-ms")
	b.ReportMetric(float64(fullSize), "full-bytes")
	b.ReportMetric(ms(part[rounds/2]), "partition-ms")
	b.ReportMetric(float64(partSize), "partition-bytes")
	b.Logf("%d certificates, %d revoked: the whole CRL %d bytes in %s, a partition %d bytes in %s",
		n, n/10, fullSize, full[rounds/2].Round(time.Millisecond), partSize, part[rounds/2].Round(time.Millisecond))
}
