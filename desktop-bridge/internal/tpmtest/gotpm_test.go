package tpmtest

import (
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// TestGoTPMCreatesSRK drives the swtpm through go-tpm's direct API (what the
// key store will use): the ECC P-256 SRK is recreated from the TPM's seed, so
// two CreatePrimary calls must yield the same public key.
func TestGoTPMCreatesSRK(t *testing.T) {
	tp := Start(t)
	c, err := tp.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tpm := transport.FromReadWriter(c)
	var pubs [2][]byte
	for i := range pubs {
		rsp, err := tpm2.CreatePrimary{
			PrimaryHandle: tpm2.TPMRHOwner,
			InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
		}.Execute(tpm)
		if err != nil {
			t.Fatalf("create SRK: %v", err)
		}
		pubs[i] = rsp.OutPublic.Bytes()
		if _, err := (tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}).Execute(tpm); err != nil {
			t.Fatalf("flush SRK: %v", err)
		}
	}
	if string(pubs[0]) != string(pubs[1]) {
		t.Fatal("SRK differs between two CreatePrimary calls")
	}
}
