package ca

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vscard/vscard/server/cardspec"
)

// TestEntStore checks the store's contract on SQLite, the behaviour the CA relies on.
func TestEntStore(t *testing.T) {
	ctx := context.Background()
	s := NewEntStore(newEntClient(t))
	now := time.Now().UTC().Truncate(time.Second)
	rec := func(serial, ref string, notAfter time.Time) *Record {
		return &Record{Serial: serial, Reference: ref, Template: cardspec.Signature, Subject: "CN=x",
			NotBefore: now.Add(-time.Minute), NotAfter: notAfter, State: StatusPending}
	}
	for _, r := range []*Record{
		rec("a1", "ord_1", now.Add(time.Hour)),
		rec("a2", "ord_1", now.Add(time.Hour)),
		rec("b1", "ord_2", now.Add(-48*time.Hour)),
	} {
		if err := s.Reserve(ctx, r); err != nil {
			t.Fatalf("Reserve %s: %v", r.Serial, err)
		}
	}

	t.Run("error/reserve-duplicate", func(t *testing.T) {
		if err := s.Reserve(ctx, rec("a1", "ord_3", now)); !errors.Is(err, ErrSerialTaken) {
			t.Errorf("Reserve duplicate = %v, want ErrSerialTaken", err)
		}
	})
	t.Run("error/get-unknown", func(t *testing.T) {
		if _, err := s.Get(ctx, "ff"); !errors.Is(err, ErrRecordNotFound) {
			t.Errorf("Get = %v, want ErrRecordNotFound", err)
		}
		if err := s.Revoke(ctx, "ff", StatusRevoked, now, 1); !errors.Is(err, ErrRecordNotFound) {
			t.Errorf("Revoke = %v, want ErrRecordNotFound", err)
		}
		if err := s.MarkIssued(ctx, "ff", []byte{1}); !errors.Is(err, ErrRecordNotFound) {
			t.Errorf("MarkIssued = %v, want ErrRecordNotFound", err)
		}
	})
	t.Run("ok/pending-then-valid", func(t *testing.T) {
		got, err := s.Get(ctx, "a1")
		if err != nil || got.State != StatusPending || got.DER != nil || got.Reference != "ord_1" || !got.NotAfter.Equal(now.Add(time.Hour)) {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		if err := s.MarkIssued(ctx, "a1", []byte("der")); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "a1"); got.State != StatusValid || !bytes.Equal(got.DER, []byte("der")) {
			t.Errorf("after MarkIssued: %+v", got)
		}
	})
	t.Run("ok/revoked-while-signing-stays-revoked", func(t *testing.T) {
		if err := s.Revoke(ctx, "a2", StatusRevoked, now, 4); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkIssued(ctx, "a2", []byte("der2")); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Get(ctx, "a2")
		if got.State != StatusRevoked || !bytes.Equal(got.DER, []byte("der2")) || got.RevocationReason != 4 || !got.RevokedAt.Equal(now) {
			t.Errorf("after MarkIssued on a revoked record: %+v", got)
		}
	})
	t.Run("ok/hold-and-reinstate", func(t *testing.T) {
		if err := s.Revoke(ctx, "a1", StatusOnHold, now, 6); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "a1"); got.State != StatusOnHold || got.RevocationReason != 6 {
			t.Errorf("held: %+v", got)
		}
		if err := s.Reinstate(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "a1"); got.State != StatusValid || !got.RevokedAt.IsZero() || got.RevocationReason != 0 {
			t.Errorf("reinstated: %+v", got)
		}
	})
	t.Run("ok/list", func(t *testing.T) {
		if err := s.Revoke(ctx, "b1", StatusRevoked, now, 1); err != nil {
			t.Fatal(err)
		}
		byRef, err := s.ListByReference(ctx, "ord_1")
		if err != nil || len(byRef) != 2 || byRef[0].Serial != "a1" || byRef[1].Serial != "a2" {
			t.Errorf("ListByReference = %v, %v", serials(byRef), err)
		}
		revoked, err := s.ListRevoked(ctx, now.Add(-24*time.Hour), "")
		if err != nil || len(revoked) != 1 || revoked[0].Serial != "a2" {
			t.Errorf("ListRevoked(-24h) = %v, %v; want [a2] (b1 expired earlier)", serials(revoked), err)
		}
		revoked, err = s.ListRevoked(ctx, now.Add(-72*time.Hour), "")
		if err != nil || len(revoked) != 2 {
			t.Errorf("ListRevoked(-72h) = %v, %v; want [a2 b1]", serials(revoked), err)
		}
	})
}

func serials(rs []*Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Serial
	}
	return out
}
