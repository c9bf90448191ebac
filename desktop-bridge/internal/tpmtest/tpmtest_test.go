package tpmtest

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// TestStartAnswersCommands sends TPM2_GetRandom and expects TPM_RC_SUCCESS
// with the requested bytes: the TPM is manufactured, started and reachable.
func TestStartAnswersCommands(t *testing.T) {
	tp := Start(t)
	c, err := tp.Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// TPM_ST_NO_SESSIONS, size 12, TPM_CC_GetRandom, bytesRequested 8.
	cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8}
	if _, err := c.Write(cmd); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 10)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatal(err)
	}
	if rc := binary.BigEndian.Uint32(hdr[6:]); rc != 0 {
		t.Fatalf("GetRandom rc = %#x", rc)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[2:])-10)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	if n := binary.BigEndian.Uint16(body); n != 8 || bytes.Equal(body[2:], make([]byte, 8)) {
		t.Fatalf("GetRandom returned %d bytes %x", n, body[2:])
	}
}

// TestLocalCAChains checks the intermediate that certifies EKs chains to the
// root, which attestation tests will trust.
func TestLocalCAChains(t *testing.T) {
	Start(t) // manufactures at least once, so the local CA exists
	root, inter := LocalCA(t)
	if err := inter.CheckSignatureFrom(root); err != nil {
		t.Fatalf("intermediate not signed by root: %v", err)
	}
}
