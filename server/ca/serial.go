package ca

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/vscard/vscard/server/errs"
)

// serialLimit bounds serial numbers to 128 bits, well inside RFC 5280's 20 octets and well
// above the CA/Browser Forum's 64 bits of entropy.
var serialLimit = new(big.Int).Lsh(big.NewInt(1), 128)

// randomSerial returns a random positive serial number below 2^128.
func randomSerial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, serialLimit)
		if err != nil {
			return nil, fmt.Errorf("generate serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// formatSerial is the one text form of a serial in vscard: lower-case hex, no leading zeros.
func formatSerial(n *big.Int) string { return n.Text(16) }

// normalizeSerial accepts a serial as people paste it (upper case, leading zeros, colons,
// a 0x prefix) and returns formatSerial's form.
func normalizeSerial(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "0x")
	t = strings.NewReplacer(":", "", " ", "").Replace(t)
	n, ok := new(big.Int).SetString(t, 16)
	if t == "" || !ok || n.Sign() <= 0 {
		return "", errs.New(errs.InvalidInput, "%q is not a certificate serial number; give it in hexadecimal, e.g. 3f2a9c…", s)
	}
	return formatSerial(n), nil
}
