package enroll

import (
	"context"
	"crypto/x509"
	"fmt"
	"github.com/vscard/vscard/server/tpmverify"
	"log/slog"
	"sync"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/predicate"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/revocation"
	"github.com/vscard/vscard/server/secretbox"
)

// Config tunes the engine. Zero durations take the defaults.
type Config struct {
	// PublicURL is this server's URL as the bridge reaches it; it goes into hand-off links.
	PublicURL string
	// TokenTTL is how long a hand-off link works (default 10 minutes).
	TokenTTL time.Duration
	// BridgeSessionTTL is how long the bridge's session after claim lasts (default 30 minutes).
	BridgeSessionTTL time.Duration
	// IdleTTL is how long an order may stay in one state before the sweep expires it
	// (default 30 minutes).
	IdleTTL time.Duration
	// AttestationRoots, when set, are the roots a card's attestation must chain to before
	// the CA issues. Without them attestations are stored unverified.
	AttestationRoots *x509.CertPool
	// TPM checks TPM evidence (--tpm-roots); nil has no roots, so no TPM is attested.
	TPM *tpmverify.Verifier
	// Limits bound claim attempts and order starts.
	Limits Limits
	// Now replaces time.Now in tests.
	Now func() time.Time
	// Dialect is the store's (entgo.io/ent/dialect: dialect.Postgres or dialect.SQLite):
	// PostgreSQL rows are locked where two requests must take turns; SQLite's write
	// transactions take turns anyway and know no SELECT … FOR UPDATE.
	Dialect string
	// Entered, when set, hears of each order that entered a state (STARTED: it was
	// started) once the change has committed, e.g. to count them.
	Entered func(state order.State)
}

func (c *Config) defaults() {
	if c.TokenTTL == 0 {
		c.TokenTTL = 10 * time.Minute
	}
	if c.BridgeSessionTTL == 0 {
		c.BridgeSessionTTL = 30 * time.Minute
	}
	if c.IdleTTL == 0 {
		c.IdleTTL = 30 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Entered == nil {
		c.Entered = func(order.State) {}
	}
	c.Limits.defaults()
}

// OptionsSource evaluates the option script in force for a user.
type OptionsSource interface {
	// Evaluate returns the options and the version of the script that produced them.
	Evaluate(ctx context.Context, u *ent.User) (*cardspec.Options, string, error)
}

// Engine runs orders. It is safe for concurrent use, also by several server instances on
// one database.
type Engine struct {
	db   *ent.Client
	ca   ca.Authority
	bus  events.Bus
	opts OptionsSource
	box  *secretbox.Box
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	// procs are the processes this engine runs (builtin, and in tests a few more).
	procs *registry

	claims, starts *limiter
	// unblocks bound the responses a person asks for (AnswerUnblockChallenge).
	unblocks *limiter
	// challenges bounds card proof challenges per serial (CardChallenge).
	challenges *limiter
	// tpmSessions and tpmPeople bound TPM challenges per bridge session and per person
	// (TPMChallenge).
	tpmSessions, tpmPeople *limiter
	// lastReconciled is when the sweep last checked ended orders against the CA.
	sweepMu        sync.Mutex
	lastReconciled time.Time
}

// New returns an engine.
func New(db *ent.Client, authority ca.Authority, bus events.Bus, opts OptionsSource,
	box *secretbox.Box, cfg Config, log *slog.Logger) *Engine {
	cfg.defaults()
	return &Engine{
		db: db, ca: authority, bus: bus, opts: opts, box: box, cfg: cfg, log: log, now: cfg.Now,
		procs:    newRegistry(builtin()...),
		claims:   newLimiter(cfg.Limits.ClaimsPerMinute, cfg.Limits.ClaimBurst, cfg.Now),
		starts:   newLimiter(cfg.Limits.StartsPerMinute, cfg.Limits.StartBurst, cfg.Now),
		unblocks: newLimiter(cfg.Limits.UnblocksPerMinute, cfg.Limits.UnblockBurst, cfg.Now),
		// A Desktop App asks once per card per contact; a few contacts at once (start,
		// a hand-off, a reconnect) fit the burst.
		challenges:  newLimiter(30, 10, cfg.Now),
		tpmSessions: newLimiter(cfg.Limits.TPMChallengesPerMinute, cfg.Limits.TPMChallengeBurst, cfg.Now),
		tpmPeople:   newLimiter(cfg.Limits.TPMChallengesPerPersonPerMinute, cfg.Limits.TPMChallengePersonBurst, cfg.Now),
	}
}

// discard undoes what an order created, inside the transaction that ends it, as far as its
// process says (Definition.Undo): certificates still valid are revoked in the identity
// store and the unfinished card is deleted. It returns the serials to revoke at the CA once
// the transaction has committed, and what it undid, for the ending step. An order of a
// process this server does not know undoes everything it could have made.
func (e *Engine) discard(ctx context.Context, tx *ent.Tx, o *ent.Order, now time.Time) ([]string, record.Undone, error) {
	undo := UndoCertificates | UndoNewCard
	if d := e.procs.of(o); d != nil {
		undo = d.Undo
	}
	var serials []string
	if undo&UndoCertificates != 0 {
		var err error
		serials, err = revokeCertificates(ctx, tx, certificate.OrderID(o.ID), now, revocation.CessationOfOperation)
		if err != nil {
			return nil, record.Undone{}, err
		}
		// Keys an ended order added to a card it acts on weighed on the card; they are
		// gone again.
		if len(serials) > 0 && o.SubjectCardID != nil {
			if _, err := reweigh(ctx, tx, *o.SubjectCardID, now); err != nil {
				return nil, record.Undone{}, err
			}
		}
	}
	undone := record.Undone{CertificatesRevoked: len(serials)}
	// The card never became active: nothing of it is left behind.
	if undo&UndoNewCard != 0 {
		n, err := tx.Card.Delete().Where(card.OrderID(o.ID), card.StateEQ(card.StateREGISTERED)).Exec(ctx)
		if err != nil {
			return nil, record.Undone{}, fmt.Errorf("delete unfinished card: %w", err)
		}
		undone.CardDeleted = n > 0
	}
	return serials, undone, nil
}

// revokeCertificates revokes, in the identity store, the certificates matching which that
// are still valid or on hold, for reason, and returns their serials for the CA.
func revokeCertificates(ctx context.Context, tx *ent.Tx, which predicate.Certificate, now time.Time, reason revocation.Reason) ([]string, error) {
	live := certificate.And(which, certificate.StateIn(certificate.StateVALID, certificate.StateON_HOLD))
	serials, err := tx.Certificate.Query().Where(live).Select(certificate.FieldSerial).Strings(ctx)
	if err != nil || len(serials) == 0 {
		return nil, err
	}
	err = tx.Certificate.Update().
		Where(certificate.SerialIn(serials...)).
		SetState(certificate.StateREVOKED).
		SetRevocationReason(reason).
		SetRevokedAt(now).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoke certificates: %w", err)
	}
	return serials, nil
}

// markSuperseded names, on each live certificate of which, the certificate of order
// orderID that takes its slot: the certificates a renewal or replacement is about to
// revoke as superseded point to their successors. A slot the order issued nothing for
// keeps no successor.
func markSuperseded(ctx context.Context, tx *ent.Tx, which predicate.Certificate, orderID string) error {
	issued, err := tx.Certificate.Query().Where(certificate.OrderID(orderID)).
		Select(certificate.FieldID, certificate.FieldSlot).All(ctx)
	if err != nil {
		return fmt.Errorf("load new certificates: %w", err)
	}
	for _, n := range issued {
		err := tx.Certificate.Update().
			Where(which, certificate.Slot(n.Slot), certificate.IDNEQ(n.ID),
				certificate.StateIn(certificate.StateVALID, certificate.StateON_HOLD)).
			SetSupersededByID(n.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("name successor certificate: %w", err)
		}
	}
	return nil
}

// revokeAtCA revokes serials in the CA's own records for reason; owner names what they
// belonged to (an order or card id) for the log. A failure is logged: the sweep retries,
// because the identity store already says REVOKED.
func (e *Engine) revokeAtCA(ctx context.Context, owner string, serials []string, reason revocation.Reason) {
	for _, s := range serials {
		if err := e.ca.Revoke(ctx, s, reason.Code()); err != nil {
			e.log.Error("revoke certificate at CA", "of", owner, "serial", s, "err", err)
		}
	}
}
