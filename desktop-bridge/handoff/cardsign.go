package handoff

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/go-piv/piv-go/v2/piv"
)

// SignChallenge signs challenge (its SHA-256) with the key of the card's authentication
// slot (9A), which takes pin: the proof that this desktop holds the card, for a call the
// card makes on its owner's behalf without a portal session (vscard-bridge delete). The
// key never leaves the card. ask is called again, with the problems, after a wrong PIN;
// a blocked PIN ends it with CodePINBlocked.
func SignChallenge(ctx context.Context, reader string, serial uint32, challenge []byte, ask func(ctx context.Context, problems []Problem) (string, error)) ([]byte, error) {
	c, err := openCard(ctx, reader, serial, 20*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.close()
	cert, err := c.yk.Certificate(piv.SlotAuthentication)
	if err != nil {
		return nil, fmt.Errorf("read authentication certificate: %w", err)
	}
	digest := sha256.Sum256(challenge)
	var problems []Problem
	for {
		pin, err := ask(ctx, problems)
		if err != nil {
			return nil, err
		}
		key, err := c.yk.PrivateKey(piv.SlotAuthentication, cert.PublicKey, piv.KeyAuth{PIN: pin})
		if err != nil {
			return nil, fmt.Errorf("open authentication key: %w", err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, errors.New("open authentication key: the card's key cannot sign")
		}
		sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		var auth piv.AuthErr
		switch {
		case err == nil:
			return sig, nil
		case errors.As(err, &auth) && auth.Retries == 0:
			return nil, &Error{Code: CodePINBlocked, Detail: "wrong PIN; no tries left"}
		case errors.As(err, &auth):
			problems = []Problem{WrongPINProblem(auth.Retries)}
		default:
			return nil, fmt.Errorf("sign with the card: %w", err)
		}
	}
}
