package enroll

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// The card speaks for its owner: `vscard-bridge delete <serial>` runs on the desktop that
// holds the card, where no portal session exists, and a bridge session lives only as long
// as one order. So the Desktop App proves it holds the card instead: the card signs a
// challenge of the server's with the key of its authentication certificate (slot 9A, which
// only the card has and which takes the person's PIN), and the server then runs
// delete-virtual-smart-card for the card's owner, as the portal's Delete does. The order,
// its audit events and what the CA is told are the same as from the portal.
//
// The challenge is sealed with the server's secret box: the server keeps nothing between
// the two calls, and a challenge names its card and its expiry.

// challengeTTL is how long a card challenge may be answered: long enough to type a PIN.
const challengeTTL = 5 * time.Minute

const challengeContext = "card:delete-challenge"

// DeleteChallenge returns a challenge for the card serial to sign (DeleteWithCard).
func (e *Engine) DeleteChallenge(serial string) string {
	var exp [8]byte
	binary.BigEndian.PutUint64(exp[:], uint64(e.now().Add(challengeTTL).Unix()))
	nonce := make([]byte, 16)
	_, _ = randRead(nonce)
	plain := append(append(exp[:], nonce...), serial...)
	return base64.RawURLEncoding.EncodeToString(e.box.Seal(plain, challengeContext))
}

// DeleteWithCard deletes the card serial for its owner, the card having signed challenge
// (from DeleteChallenge) with the key of its authentication certificate; signature is base64.
func (e *Engine) DeleteWithCard(ctx context.Context, serial, challenge, signature string) (*ent.Card, error) {
	// Anyone may call this: attempts on one card are limited as claims of one order are.
	if err := e.claims.allow("card:"+serial, "attempts to delete this card with the card"); err != nil {
		return nil, err
	}
	refused := errs.New(errs.Forbidden, "The card's signature does not prove it is card %s. Start again.", serial)
	sealed, err := base64.RawURLEncoding.DecodeString(challenge)
	if err != nil {
		return nil, refused
	}
	plain, err := e.box.Open(sealed, challengeContext)
	if err != nil || len(plain) < 24 || string(plain[24:]) != serial {
		return nil, refused
	}
	if !e.now().Before(time.Unix(int64(binary.BigEndian.Uint64(plain[:8])), 0)) {
		return nil, errs.New(errs.TokenExpired, "The card took too long to answer. Start again.")
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil {
		return nil, refused
	}
	sys := viewer.AsServer(ctx)
	c, err := e.db.Card.Query().Where(card.Serial(serial)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "There is no card %s.", serial)
	}
	if err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	// Any authentication certificate the card had names its key, whatever its state: the
	// signature proves the card is here, and a card no longer in use is then refused by
	// its state as the portal's Delete refuses it (the Desktop App removes it all the same).
	certs, err := e.db.Certificate.Query().Where(certificate.CardID(c.ID),
		certificate.TemplateEQ(cardspec.Authentication)).All(sys)
	if err != nil {
		return nil, fmt.Errorf("load card certificates: %w", err)
	}
	digest := sha256.Sum256([]byte(challenge))
	proven := false
	for _, cert := range certs {
		if x, err := x509.ParseCertificate(cert.Der); err == nil && verifyDigest(x.PublicKey, digest[:], sig) {
			proven = true
			break
		}
	}
	if !proven {
		return nil, refused
	}
	owner, err := e.db.User.Get(sys, c.OwnerID)
	if err != nil {
		return nil, fmt.Errorf("load card owner: %w", err)
	}
	as := viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.KindUser, UserID: owner.ID, Name: owner.Username, Roles: []string{viewer.RoleUser},
	})
	o, err := e.Start(as, ProcessDeleteCard, c.ID)
	if err != nil {
		return nil, err
	}
	if _, _, err := e.Next(as, o.ID); err != nil {
		// Not left running: it would stand in the way of the person's next order.
		if _, cerr := e.Cancel(as, o.ID, "the card could not be deleted"); cerr != nil {
			e.log.Warn("cancel delete order", "order", o.ID, "err", cerr)
		}
		return nil, err
	}
	return e.db.Card.Get(sys, c.ID)
}

func verifyDigest(pub any, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig) == nil
	}
	return false
}
