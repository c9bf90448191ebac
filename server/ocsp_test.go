package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/servertest"
)

// TestOCSPAcrossInstances: two instances on one PostgreSQL database serve OCSP from
// memory, and a certificate revoked through one is revoked on the other as soon as the
// other hears the notice (the CA's watcher runs before the notice reaches anyone who
// subscribed to the certificate's key, so once this test hears it, the cache has too).
func TestOCSPAcrossInstances(t *testing.T) {
	envs := servertest.StartCluster(t, 2)
	a, b := envs[0], envs[1]
	ctx := context.Background()
	// Every certificate notice B hears, to wait for the issue's before asking B.
	heard := make(chan string, 16)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	b.Server.Events.(events.Watcher).Watch(watchCtx, ca.CertKeyPrefix, func(key string) {
		select {
		case heard <- key:
		default:
		}
	})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := a.Server.CA.Issue(ctx, ca.IssueRequest{
		CSR: csr, Template: cardspec.Authentication, Subject: pkix.Name{CommonName: "Alice"},
		UPN: "alice@example.com", NotAfter: time.Now().Add(time.Hour), Reference: "ord_ocsp",
	})
	if err != nil {
		t.Fatal(err)
	}
	<-b.Server.CA.OCSPFilterLoaded()
	for k := range heard {
		if k == ca.CertKey(issued.Serial) {
			break // the notice of MarkIssued: B knows the serial now
		}
	}
	get := func(env *servertest.Env) (*ocsp.Response, string) {
		t.Helper()
		issuer := env.Server.CA.Chain()[0]
		req, err := ocsp.CreateRequest(issued.Certificate, issuer, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(env.URL + "/ca/ocsp/" + base64.StdEncoding.EncodeToString(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		r, err := ocsp.ParseResponseForCert(body, issued.Certificate, issuer)
		if err != nil {
			t.Fatalf("parse OCSP response: %v", err)
		}
		return r, resp.Header.Get("ETag")
	}

	// B hears of the certificate issued on A (its filter learns the serial), caches the
	// answer and serves it again from memory.
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Subscribe takes the bus's lock, which delivery holds until every watcher has run:
	// from here on, B's CA has seen the issue's notice too.
	notices, err := b.Server.Events.Subscribe(subCtx, ca.CertKey(issued.Serial))
	if err != nil {
		t.Fatal(err)
	}
	first, etag := get(b)
	if first.Status != ocsp.Good {
		t.Fatalf("B says %d for a certificate issued on A, want good", first.Status)
	}
	if _, again := get(b); again != etag {
		t.Fatalf("B signed its answer again (ETag %s, then %s): not served from memory", etag, again)
	}

	revokedAt := time.Now()
	if err := a.Server.CA.Revoke(ctx, issued.Serial, ocsp.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	select {
	case <-notices:
		t.Logf("B heard of the revocation %v after it", time.Since(revokedAt))
	case <-time.After(30 * time.Second):
		t.Fatal("B never heard of the revocation made on A")
	}
	r, etag2 := get(b)
	if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise || etag2 == etag {
		t.Errorf("after the revocation on A, B says status %d reason %d (ETag %s, was %s); want revoked, keyCompromise",
			r.Status, r.RevocationReason, etag2, etag)
	}
	if !bytes.Equal(r.SerialNumber.Bytes(), issued.Certificate.SerialNumber.Bytes()) {
		t.Errorf("answer for serial %x", r.SerialNumber)
	}
}

// TestOCSPUnknownSerialsCostNoStatement: on PostgreSQL, random serials the CA never issued
// are answered unknown without a statement per request, counted by pg_stat_statements
// (which scripts/test-postgres.sh loads): the filter of issued serials answers.
func TestOCSPUnknownSerialsCostNoStatement(t *testing.T) {
	env := servertest.StartCluster(t, 1)[0]
	db := env.Server.DB.SQL
	if _, err := db.Exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		t.Skipf("pg_stat_statements is not loaded: %v", err)
	}
	<-env.Server.CA.OCSPFilterLoaded()
	caReads := func() int64 {
		t.Helper()
		var n int64
		if err := db.QueryRow(`SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND query ILIKE '%ca_records%' AND query NOT ILIKE '%pg_stat_statements%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	issuer := env.Server.CA.Chain()[0]
	before := caReads()
	const requests = 100
	for range requests {
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		cert := &x509.Certificate{SerialNumber: serial.Add(serial, big.NewInt(1))}
		req, err := ocsp.CreateRequest(cert, issuer, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(env.URL + "/ca/ocsp/" + base64.StdEncoding.EncodeToString(req))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r, err := ocsp.ParseResponseForCert(body, cert, issuer)
		if err != nil || r.Status != ocsp.Unknown {
			t.Fatalf("random serial: %v, status %v", err, r)
		}
	}
	if n := caReads() - before; n > requests/20 { // a few false positives of the filter at most
		t.Errorf("%d unknown serials ran %d statements on ca_records, want none", requests, n)
	}
}
