package vcard

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"
)

func TestSelectVersionSerial(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		c := newMemoryCard(t, Options{Serial: 12345678, KeyStore: ks})
		tests := []struct {
			name   string
			apdu   string
			wantSW uint16
			want   string // hex prefix of the data, "" for any
		}{
			{"ok/select full aid", "00 A4 04 00 0B A0 00 00 03 08 00 00 10 00 01 00", swOK, "61"},
			{"ok/select partial aid", "00 A4 04 00 05 A0 00 00 03 08", swOK, "61 45 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 50 12"},
			{"ok/select no response", "00 A4 04 0C 05 A0 00 00 03 08", swOK, ""},
			{"error/select unknown aid", "00 A4 04 00 08 A0 00 00 05 27 47 11 17", swNotFound, ""},
			{"error/select wrong p1", "00 A4 00 00 05 A0 00 00 03 08", swWrongP1P2, ""},
			{"ok/version", "00 FD 00 00 00", swOK, "05 07 01"},
			{"ok/serial", "00 F8 00 00 00", swOK, "00 BC 61 4E"},
			{"error/unknown ins", "00 12 00 00 00", swINSNotSupported, ""},
			{"error/secure messaging cla", "0C FD 00 00 00", swCLANotSupported, ""},
			{"error/too short", "00 FD 00", swWrongLength, ""},
			{"error/lc mismatch", "00 20 00 80 08 31 32", swWrongLength, ""},
			{"error/get response with nothing pending", "00 C0 00 00 00", swConditionsNotMet, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				data, sw := tx(t, c, h(tt.apdu))
				mustSW(t, tt.wantSW, sw, tt.apdu)
				if !bytes.HasPrefix(data, h(tt.want)) {
					t.Errorf("data %X, want prefix %s", data, tt.want)
				}
				if sw != swOK && len(data) != 0 {
					t.Errorf("error response carries data %X", data)
				}
			})
		}
	})
}

func TestPIN(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		c := newMemoryCard(t, Options{KeyStore: ks})
		status := func() uint16 { _, sw := tx(t, c, h("00 20 00 80 00")); return sw }

		mustSW(t, 0x63C3, status(), "fresh status")
		mustSW(t, 0x63C2, verifyPIN(t, c, "000000"), "wrong pin")
		mustSW(t, 0x63C2, status(), "status after wrong pin")
		mustSW(t, swOK, verifyPIN(t, c, defaultPIN), "right pin")
		mustSW(t, swOK, status(), "status after right pin")
		mustSW(t, swOK, func() uint16 { _, sw := tx(t, c, h("00 20 FF 80 00")); return sw }(), "reset status")
		mustSW(t, 0x63C3, status(), "counter restored, not verified")

		// Malformed PINs must not cost a try.
		mustSW(t, swWrongLength, func() uint16 { _, sw := tx(t, c, h("00 20 00 80 04 31 32 33 34")); return sw }(), "short pin")
		mustSW(t, swRefNotFound, func() uint16 { _, sw := call(t, c, insVerify, 0, refPUK, pinBytes(defaultPUK)); return sw }(), "verify puk")
		mustSW(t, 0x63C3, status(), "no try lost")

		// Change the PIN: wrong old PIN costs a try, a malformed new one doesn't.
		_, sw := call(t, c, insChangeRef, 0, refPIN, append(pinBytes("999999"), pinBytes("654321")...))
		mustSW(t, 0x63C2, sw, "change with wrong pin")
		_, sw = call(t, c, insChangeRef, 0, refPIN, append(pinBytes(defaultPIN), pinBytes("12")...))
		mustSW(t, swWrongData, sw, "change to short pin")
		mustSW(t, 0x63C2, status(), "tries after malformed change")
		_, sw = call(t, c, insChangeRef, 0, refPIN, append(pinBytes(defaultPIN), pinBytes("654321")...))
		mustSW(t, swOK, sw, "change pin")
		mustSW(t, 0x63C3, status(), "counter reset by change")

		for i, want := range []uint16{0x63C2, 0x63C1, 0x63C0, swAuthBlocked, swAuthBlocked} {
			mustSW(t, want, verifyPIN(t, c, "111111"), "wrong pin #"+string(rune('1'+i)))
		}
		mustSW(t, swAuthBlocked, verifyPIN(t, c, "654321"), "right pin while blocked")
		mustSW(t, swAuthBlocked, status(), "status while blocked")

		// Unblock with the PUK.
		_, sw = call(t, c, insResetRetry, 0, refPIN, append(pinBytes("00000000"), pinBytes("777777")...))
		mustSW(t, 0x63C2, sw, "unblock with wrong puk")
		_, sw = call(t, c, insResetRetry, 0, refPIN, append(pinBytes(defaultPUK), pinBytes("777777")...))
		mustSW(t, swOK, sw, "unblock")
		mustSW(t, swOK, verifyPIN(t, c, "777777"), "new pin")
		md, sw := call(t, c, insGetMetadata, 0, refPUK, nil)
		mustSW(t, swOK, sw, "puk metadata")
		if !bytes.Equal(md, h("01 01 FF 05 01 01 06 02 03 03")) {
			t.Errorf("puk metadata %X", md)
		}
		md, _ = call(t, c, insGetMetadata, 0, refPIN, nil)
		if !bytes.Equal(md, h("01 01 FF 05 01 00 06 02 03 03")) {
			t.Errorf("pin metadata %X", md)
		}
	})
}

func TestResetAndRetries(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		c := newMemoryCard(t, Options{KeyStore: ks})
		_, sw := call(t, c, insReset, 0, 0, nil)
		mustSW(t, swConditionsNotMet, sw, "reset while pin not blocked")

		_, sw = call(t, c, insSetRetries, 5, 4, nil)
		mustSW(t, swSecurityNotSatisfied, sw, "set retries without auth")
		authDefault(t, c)
		verifyPIN(t, c, defaultPIN)
		_, sw = call(t, c, insSetRetries, 5, 4, nil)
		mustSW(t, swOK, sw, "set retries")
		md, _ := call(t, c, insGetMetadata, 0, refPIN, nil)
		if !bytes.Equal(md, h("01 01 FF 05 01 01 06 02 05 05")) {
			t.Errorf("pin metadata after set retries %X", md)
		}

		_, sw = call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 11"))
		mustSW(t, swOK, sw, "generate before reset")
		for range 5 {
			verifyPIN(t, c, "000000")
		}
		for range 4 {
			call(t, c, insChangeRef, 0, refPUK, append(pinBytes("00000000"), pinBytes("00000000")...))
		}
		att, _ := c.AttestationCertificate()
		_, sw = call(t, c, insReset, 0, 0, nil)
		mustSW(t, swOK, sw, "reset")
		mustSW(t, 0x63C3, func() uint16 { _, sw := tx(t, c, h("00 20 00 80 00")); return sw }(), "pin after reset")
		_, sw = call(t, c, insGetMetadata, 0, 0x9A, nil)
		mustSW(t, swRefNotFound, sw, "key gone after reset")
		_, sw = call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 11"))
		mustSW(t, swSecurityNotSatisfied, sw, "auth wiped by reset")
		authDefault(t, c)
		att2, err := c.AttestationCertificate()
		if err != nil || !att2.Equal(att) {
			t.Errorf("attestation identity changed by reset: %v", err)
		}
	})
}

func TestManagementKey(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		aes128 := bytes.Repeat([]byte{0x42}, 16)
		aes256 := bytes.Repeat([]byte{0x43}, 32)
		tdes := h("0102030405060708 1112131415161718 2122232425262728")
		tests := []struct {
			name string
			alg  Algorithm
			key  []byte
		}{
			{"ok/aes-128", AlgAES128, aes128},
			{"ok/aes-192", AlgAES192, bytes.Repeat([]byte{0x44}, 24)},
			{"ok/aes-256", AlgAES256, aes256},
			{"ok/3des", Alg3DES, tdes},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := newMemoryCard(t, Options{KeyStore: ks})
				md, _ := call(t, c, insGetMetadata, 0, slotManagement, nil)
				if !bytes.Equal(md, h("01 01 0A 02 02 00 01 05 01 01")) {
					t.Fatalf("default management key metadata %X", md)
				}
				_, sw := call(t, c, insSetManagement, 0xFF, 0xFF, append([]byte{byte(tt.alg), 0x9B, byte(len(tt.key))}, tt.key...))
				mustSW(t, swSecurityNotSatisfied, sw, "set without auth")
				authDefault(t, c)
				_, sw = call(t, c, insSetManagement, 0xFF, 0xFF, append([]byte{byte(tt.alg), 0x9B, byte(len(tt.key))}, tt.key...))
				mustSW(t, swOK, sw, "set")
				c.Reset()
				if tt.alg != AlgAES192 {
					mustSW(t, swWrongData, authenticate(t, c, AlgAES192, defaultManagementKey), "old algorithm")
				}
				wrong := bytes.Clone(tt.key)
				wrong[0] ^= 0x10 // not a DES parity bit
				mustSW(t, swSecurityNotSatisfied, authenticate(t, c, tt.alg, wrong), "wrong key")
				mustSW(t, swOK, authenticate(t, c, tt.alg, tt.key), "new key")
				md, _ = call(t, c, insGetMetadata, 0, slotManagement, nil)
				if md[2] != byte(tt.alg) || md[len(md)-1] != 0 {
					t.Errorf("metadata after change %X", md)
				}
			})
		}

		t.Run("error/bad key length", func(t *testing.T) {
			c := newMemoryCard(t, Options{KeyStore: ks})
			authDefault(t, c)
			_, sw := call(t, c, insSetManagement, 0xFF, 0xFF, append([]byte{byte(AlgAES128), 0x9B, 24}, tdes...))
			mustSW(t, swWrongData, sw, "aes-128 with 24 bytes")
		})
		t.Run("error/witness replay", func(t *testing.T) {
			c := newMemoryCard(t, Options{KeyStore: ks})
			// Step 2 without step 1 must fail even with a well-formed template.
			body := appendTLV(tlvBytes(0x80, make([]byte, 16)), 0x81, make([]byte, 16))
			_, sw := call(t, c, insGenAuth, byte(AlgAES192), slotManagement, tlvBytes(0x7C, body))
			mustSW(t, swSecurityNotSatisfied, sw, "step 2 alone")
		})
		t.Run("ok/external authenticate", func(t *testing.T) {
			c := newMemoryCard(t, Options{KeyStore: ks})
			resp, sw := call(t, c, insGenAuth, byte(AlgAES192), slotManagement, h("7C 02 81 00"))
			mustSW(t, swOK, sw, "challenge")
			ch := resp[4:]
			b, _ := aes.NewCipher(defaultManagementKey)
			enc := make([]byte, 16)
			b.Encrypt(enc, ch)
			_, sw = call(t, c, insGenAuth, byte(AlgAES192), slotManagement, tlvBytes(0x7C, tlvBytes(0x82, enc)))
			mustSW(t, swOK, sw, "response")
			_, sw = call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 11"))
			mustSW(t, swOK, sw, "generate after external auth")
		})
	})
}

func TestKeysAndSigning(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		c := newMemoryCard(t, Options{Serial: 424242, KeyStore: ks})
		_, inTPM := ks.(*TPM)
		authDefault(t, c)
		mustSW(t, swOK, verifyPIN(t, c, defaultPIN), "verify")
		att, err := c.AttestationCertificate()
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AddCert(att)

		tests := []struct {
			name string
			slot byte
			alg  Algorithm
		}{
			{"ok/p256 9a", 0x9A, AlgECCP256},
			{"ok/p384 9c", 0x9C, AlgECCP384},
			{"ok/rsa2048 9d", 0x9D, AlgRSA2048},
			{"ok/p256 retired 82", 0x82, AlgECCP256},
			{"ok/ed25519 9e", 0x9E, AlgEd25519},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, sw := call(t, c, insGenerate, 0, tt.slot, tlvBytes(0xAC, appendTLV(tlvBytes(0x80, []byte{byte(tt.alg)}), 0xAA, []byte{pinOnce})))
				if inTPM && !tpmAlgorithm(tt.alg) {
					mustSW(t, swWrongData, sw, "generate what the TPM cannot make")
					return
				}
				mustSW(t, swOK, sw, "generate")
				tmpl, err := parseOne(resp, tagPublicKey)
				if err != nil {
					t.Fatalf("public key template %X: %v", resp, err)
				}
				md, sw := call(t, c, insGetMetadata, 0, tt.slot, nil)
				mustSW(t, swOK, sw, "metadata")
				mdItems, _ := parseTLVs(md)
				if v, _ := find(mdItems, mdPublicKey); !bytes.Equal(v, tmpl) {
					t.Errorf("metadata public key differs from generated one")
				}
				if v, _ := find(mdItems, mdPolicy); !bytes.Equal(v, []byte{pinOnce, touchNever}) {
					t.Errorf("policy %X", v)
				}
				pub := c.st.keys[tt.slot].public()

				digest := sha256.Sum256([]byte("vscard"))
				input := digest[:]
				if tt.alg == AlgRSA2048 {
					input, err = pkcs1v15Pad(digest[:], 256)
					if err != nil {
						t.Fatal(err)
					}
				}
				resp, sw = call(t, c, insGenAuth, byte(tt.alg), tt.slot, tlvBytes(0x7C, appendTLV([]byte{0x82, 0x00}, 0x81, input)))
				mustSW(t, swOK, sw, "sign")
				tmpl, err = parseOne(resp, tagDynAuth)
				if err != nil {
					t.Fatal(err)
				}
				sig, err := parseOne(tmpl, tagResponse)
				if err != nil {
					t.Fatal(err)
				}
				switch p := pub.(type) {
				case *ecdsa.PublicKey:
					if !ecdsa.VerifyASN1(p, digest[:], sig) {
						t.Error("ECDSA signature does not verify")
					}
				case *rsa.PublicKey:
					if err := rsa.VerifyPKCS1v15(p, 5 /* crypto.SHA256 */, digest[:], sig); err != nil {
						t.Errorf("RSA signature: %v", err)
					}
				}

				cert, err := attestSlot(t, c, tt.slot)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
					t.Errorf("attestation does not verify: %v", err)
				}
				if pk, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pk.Equal(pub) {
					t.Errorf("attested key differs from slot key")
				}
			})
		}

		t.Run("ok/ecdh p256", func(t *testing.T) {
			own := c.st.keys[0x9A].public().(*ecdsa.PublicKey)
			peer, _ := ecdh.P256().GenerateKey(rand.Reader)
			resp, sw := call(t, c, insGenAuth, byte(AlgECCP256), 0x9A, tlvBytes(0x7C, appendTLV([]byte{0x82, 0x00}, 0x85, peer.PublicKey().Bytes())))
			mustSW(t, swOK, sw, "ecdh")
			ownECDH, _ := own.ECDH()
			want, _ := peer.ECDH(ownECDH)
			if !bytes.Equal(resp, tlvBytes(0x7C, tlvBytes(0x82, want))) {
				t.Errorf("shared secret %X, want %X", resp, want)
			}
		})
		errorCases := []struct {
			name   string
			p1, p2 byte
			data   []byte
			want   uint16
		}{
			{"error/empty slot", byte(AlgECCP256), 0x9E + 1, h("7C 06 82 00 81 02 01 02"), swWrongP1P2},
			{"error/empty retired slot", byte(AlgECCP256), 0x83, h("7C 06 82 00 81 02 01 02"), swRefNotFound},
			{"error/algorithm mismatch", byte(AlgECCP384), 0x9A, h("7C 06 82 00 81 02 01 02"), swWrongData},
			{"error/rsa input not modulus size", byte(AlgRSA2048), 0x9D, h("7C 06 82 00 81 02 01 02"), swWrongData},
			{"error/ecdh point off curve", byte(AlgECCP256), 0x9A, tlvBytes(0x7C, appendTLV([]byte{0x82, 0x00}, 0x85, append([]byte{4}, make([]byte, 64)...))), swWrongData},
			{"error/both challenge and exponent", byte(AlgECCP256), 0x9A, h("7C 08 81 01 01 85 01 01 82 00"), swWrongData},
			{"error/template broken", byte(AlgECCP256), 0x9A, h("7C 09 82 00 81 02 01 02"), swWrongData},
			{"error/attest empty slot", 0, 0, nil, 0},
		}
		for _, tt := range errorCases[:len(errorCases)-1] {
			t.Run(tt.name, func(t *testing.T) {
				_, sw := call(t, c, insGenAuth, tt.p1, tt.p2, tt.data)
				mustSW(t, tt.want, sw, tt.name)
			})
		}
		t.Run("error/attest empty slot", func(t *testing.T) {
			_, sw := call(t, c, insAttest, 0x85, 0, nil)
			mustSW(t, swWrongData, sw, "attest")
		})
	})
}

func attestSlot(t *testing.T, c *Card, slot byte) (*x509.Certificate, error) {
	t.Helper()
	der, sw := call(t, c, insAttest, slot, 0, nil)
	mustSW(t, swOK, sw, "attest")
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	var serial int64
	for _, e := range cert.Extensions {
		switch {
		case e.Id.Equal(oidSerial):
			asn1.Unmarshal(e.Value, &serial)
		case e.Id.Equal(oidFirmware) && !bytes.Equal(e.Value, []byte{5, 7, 1}):
			t.Errorf("firmware extension %X", e.Value)
		}
	}
	if uint32(serial) != c.st.serial {
		t.Errorf("serial extension %d, want %d", serial, c.st.serial)
	}
	return cert, nil
}

// pkcs1v15Pad builds an EMSA-PKCS1-v1_5 block for a SHA-256 digest, as piv-go
// does before asking the card for the raw RSA operation.
func pkcs1v15Pad(digest []byte, size int) ([]byte, error) {
	prefix := h("3031300d060960864801650304020105000420")
	t := append(prefix, digest...)
	out := make([]byte, size)
	out[1] = 1
	for i := 2; i < size-len(t)-1; i++ {
		out[i] = 0xFF
	}
	copy(out[size-len(t):], t)
	return out, nil
}

func TestPINPolicy(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		c := newMemoryCard(t, Options{KeyStore: ks})
		authDefault(t, c)
		for slot, pp := range map[byte]byte{0x9A: pinNever, 0x9C: pinAlways, 0x9D: pinOnce, 0x9E: policyDefault} {
			_, sw := call(t, c, insGenerate, 0, slot, tlvBytes(0xAC, appendTLV(tlvBytes(0x80, []byte{byte(AlgECCP256)}), 0xAA, []byte{pp})))
			mustSW(t, swOK, sw, "generate")
		}
		sign := func(slot byte) uint16 {
			_, sw := call(t, c, insGenAuth, byte(AlgECCP256), slot, h("7C 06 82 00 81 02 01 02"))
			return sw
		}
		mustSW(t, swOK, sign(0x9A), "never, no pin")
		mustSW(t, swOK, sign(0x9E), "card auth default is never")
		mustSW(t, swSecurityNotSatisfied, sign(0x9D), "once, no pin")
		mustSW(t, swSecurityNotSatisfied, sign(0x9C), "always, no pin")
		verifyPIN(t, c, defaultPIN)
		mustSW(t, swOK, sign(0x9D), "once after pin")
		mustSW(t, swOK, sign(0x9D), "once twice")
		mustSW(t, swSecurityNotSatisfied, sign(0x9C), "always, pin used up by another operation")
		verifyPIN(t, c, defaultPIN)
		mustSW(t, swOK, sign(0x9C), "always after pin")
		mustSW(t, swSecurityNotSatisfied, sign(0x9C), "always needs pin again")
		verifyPIN(t, c, defaultPIN)
		mustSW(t, swOK, sign(0x9C), "always after second pin")
		c.Reset()
		mustSW(t, swSecurityNotSatisfied, sign(0x9D), "once after reset")

		md, _ := call(t, c, insGetMetadata, 0, 0x9E, nil)
		if !bytes.HasPrefix(md, h("01 01 11 02 02 01 01 03 01 01")) {
			t.Errorf("9E metadata %X", md)
		}
		_, sw := call(t, c, insGenerate, 0, 0x9A, h("AC 06 80 01 11 AA 01 04"))
		mustSW(t, swSecurityNotSatisfied, sw, "generate after reset")
		authDefault(t, c)
		_, sw = call(t, c, insGenerate, 0, 0x9A, h("AC 06 80 01 11 AA 01 04"))
		mustSW(t, swWrongData, sw, "biometric pin policy")
		_, sw = call(t, c, insGenerate, 0, 0x9A, h("AC 03 80 01 06"))
		mustSW(t, swWrongData, sw, "RSA-1024")
		_, sw = call(t, c, insGenerate, 0, 0x9B, h("AC 03 80 01 11"))
		mustSW(t, swWrongP1P2, sw, "generate in 9B")
	})
}

func TestDataObjects(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		c := newMemoryCard(t, Options{KeyStore: ks})
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "a long name " + string(bytes.Repeat([]byte("x"), 300))}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		put := func(tag []byte, content []byte) uint16 {
			_, sw := call(t, c, insPutData, 0x3F, 0xFF, append(tlvBytes(0x5C, tag), tlvBytes(0x53, content)...))
			return sw
		}
		get := func(tag []byte) ([]byte, uint16) { return call(t, c, insGetData, 0x3F, 0xFF, tlvBytes(0x5C, tag)) }

		mustSW(t, swSecurityNotSatisfied, put(h("5FC105"), certObject(der)), "put without auth")
		_, sw := get(h("5FC105"))
		mustSW(t, swNotFound, sw, "missing cert")
		authDefault(t, c)
		mustSW(t, swOK, put(h("5FC105"), certObject(der)), "put cert (chained)")
		got, sw := get(h("5FC105"))
		mustSW(t, swOK, sw, "get cert (GET RESPONSE)")
		if !bytes.Equal(got, tlvBytes(0x53, certObject(der))) {
			t.Fatalf("cert object did not round-trip")
		}
		if len(got) <= 256 {
			t.Fatalf("test certificate too small (%d) to exercise chaining", len(got))
		}

		mustSW(t, swOK, put(h("5FC109"), h("88 1A 89 18 0102030405060708 0102030405060708 0102030405060708")), "put metadata")
		_, sw = get(h("5FC109"))
		mustSW(t, swSecurityNotSatisfied, sw, "get pin protected without pin")
		verifyPIN(t, c, defaultPIN)
		got, sw = get(h("5FC109"))
		mustSW(t, swOK, sw, "get pin protected")
		if !bytes.HasPrefix(got, h("53 1C 88 1A 89 18")) {
			t.Errorf("metadata %X", got)
		}
		mustSW(t, swOK, put(h("5FC109"), nil), "delete")
		_, sw = get(h("5FC109"))
		mustSW(t, swNotFound, sw, "deleted")

		disc, sw := get(h("7E"))
		mustSW(t, swOK, sw, "discovery")
		if !bytes.Equal(disc, h("7E 12 4F 0B A0 00 00 03 08 00 00 10 00 01 00 5F 2F 02 40 00")) {
			t.Errorf("discovery %X", disc)
		}
		chuid, sw := get(h("5FC102"))
		mustSW(t, swOK, sw, "chuid")
		items, err := parseTLVs(chuid[2:])
		if err != nil {
			t.Fatalf("chuid %X: %v", chuid, err)
		}
		if f, _ := find(items, 0x30); !bytes.Equal(f[:4], h("D4 E7 39 DA")) || len(f) != 25 {
			t.Errorf("FASC-N %X", f)
		}
		_, sw = get(h("5FC107"))
		mustSW(t, swOK, sw, "ccc")
		mustSW(t, swNotFound, put(h("7E"), h("01")), "discovery is read-only")
		mustSW(t, swNoSpace, put(h("5FC10C"), make([]byte, maxObjectSize+1)), "too big")
		mustSW(t, swWrongData, func() uint16 {
			_, sw := call(t, c, insPutData, 0x3F, 0xFF, h("5C 03 5F C1 05 53 05 01"))
			return sw
		}(), "53 length beyond data")
	})
}

func TestFASCN(t *testing.T) {
	f := fascN(0)
	// Every 5-bit character has odd parity, and the stream starts with SS
	// and the agency code 9999.
	bits := make([]int, 0, 200)
	for _, b := range f {
		for i := 7; i >= 0; i-- {
			bits = append(bits, int(b>>i&1))
		}
	}
	var lrc int
	for i := 0; i < 200; i += 5 {
		ones, v := 0, 0
		for j := range 5 {
			ones += bits[i+j]
			if j < 4 {
				v |= bits[i+j] << j
			}
		}
		if ones%2 != 1 {
			t.Fatalf("character %d has even parity", i/5)
		}
		if i < 195 {
			lrc ^= v
		} else if v != lrc {
			t.Fatalf("LRC %X, want %X", v, lrc)
		}
	}
	if !bytes.Equal(f[:4], h("D4 E7 39 DA")) {
		t.Errorf("FASC-N start %X", f[:4])
	}
}

func TestChainingAndResponses(t *testing.T) {
	forEachKeyStore(t, func(t *testing.T, ks KeyStore) {
		c := newMemoryCard(t, Options{KeyStore: ks})
		authDefault(t, c)
		// A chain interrupted by another command is dropped.
		_, sw := tx(t, c, append(h("10 DB 3F FF 05"), h("5C 03 5F C1 05")...))
		mustSW(t, swOK, sw, "first chunk")
		_, sw = tx(t, c, h("00 FD 00 00 00"))
		mustSW(t, swLastCommandExpected, sw, "other command mid-chain")
		_, sw = tx(t, c, h("00 DB 3F FF 03 53 01 00"))
		mustSW(t, swWrongData, sw, "tail of the dropped chain alone")

		// Short Le splits a response.
		r := c.Transmit(h("00 FD 00 00 02"))
		if !bytes.Equal(r, h("05 07 61 01")) {
			t.Errorf("version with Le=2: %X", r)
		}
		r = c.Transmit(h("00 C0 00 00 00"))
		if !bytes.Equal(r, h("01 90 00")) {
			t.Errorf("rest of version: %X", r)
		}
	})
}

// BenchmarkTransmitSign measures the APDU core alone, without PC/SC and
// without disk, for comparison with BenchmarkSignPCSC.
func BenchmarkTransmitSign(b *testing.B) {
	for _, bc := range []struct {
		name  string
		alg   Algorithm
		input []byte
	}{
		{"p256", AlgECCP256, make([]byte, 32)},
		{"rsa2048", AlgRSA2048, append([]byte{0, 1}, bytes.Repeat([]byte{0xFF}, 254)...)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := newMemoryCard(b, Options{})
			authDefault(b, c)
			_, sw := call(b, c, insGenerate, 0, 0x9E, tlvBytes(0xAC, tlvBytes(0x80, []byte{byte(bc.alg)})))
			mustSW(b, swOK, sw, "generate")
			bc.input[len(bc.input)-1] = 1
			cmd := tlvBytes(0x7C, appendTLV([]byte{0x82, 0x00}, 0x81, bc.input))
			for b.Loop() {
				if _, sw := call(b, c, insGenAuth, byte(bc.alg), 0x9E, cmd); sw != swOK {
					b.Fatalf("sign: %04X", sw)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sig/s")
		})
	}
}
