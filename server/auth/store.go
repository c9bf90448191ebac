package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/alexedwards/scs/v2"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/session"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/viewer"
)

// Store keeps scs sessions in the database through the ent Session entity, so that any
// server instance can serve any session. Only the SHA-256 hash of a session token is
// stored: someone who reads the table cannot use it.
//
// A deleted or expired session is never brought back: Delete leaves an expired
// tombstone row that a late Commit from a request still in flight cannot update (updates
// only touch rows that have not expired) nor re-create (the hash is unique). Cleanup
// removes the tombstones once no request can still hold their token.
//
// A session's idle deadline moves on with every request, and scs writes the session back
// each time. Within a request that went through [withSessionRead], Store skips that write
// when the data is unchanged and the deadline moved by less than Refresh: an idle session
// then ends between IdleTimeout-Refresh and IdleTimeout after its last request, and a
// request that only reads costs no database write.
//
// Store, not scs, decides when a session ends, on its own clock (now): scs computes the
// expiry it hands to CommitCtx with time.Now, which tests cannot move. A signed-in
// session ends IdleTimeout after its last request or Lifetime after the sign-in,
// whichever comes first (see expiryOf).
type Store struct {
	client *ent.Client
	// grace is how long an expired row is kept before Cleanup removes it; it must
	// outlast any request that loaded the session (the session lifetime does).
	grace time.Duration
	// Refresh is how far the idle deadline must move before an unchanged session is
	// written back (0: always).
	Refresh time.Duration
	// now is the clock every expiry is computed and compared on (Config.Now); idle and
	// lifetime are Config.IdleTimeout and Config.Lifetime (0: keep scs's expiry).
	now            func() time.Time
	idle, lifetime time.Duration
}

// sessionRead is what FindCtx read in one request, so that CommitCtx can tell whether the
// write back changes anything that matters.
type sessionRead struct {
	hash   string
	data   []byte
	expiry time.Time
	// user is the session's user, read with it (nil: not read that way), so that the
	// request's viewer costs no second statement.
	user *ent.User
}

type sessionReadKey struct{}

// withSessionRead gives a request a place to remember the session row it reads.
func withSessionRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, sessionReadKey{}, &sessionRead{})
}

var _ scs.CtxStore = (*Store)(nil)

// NewStore returns a store on client. Expired rows are kept for grace before Cleanup
// deletes them.
func NewStore(client *ent.Client, grace time.Duration) *Store {
	return &Store{client: client, grace: grace, now: time.Now}
}

// hashToken is how a session token appears in the database.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the data of a live session.
func (s *Store) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	hash := hashToken(token)
	read, reading := ctx.Value(sessionReadKey{}).(*sessionRead)
	if reading {
		if u, data, expiry, ok := s.findWithUser(ctx, hash); ok {
			*read = sessionRead{hash: hash, data: data, expiry: expiry, user: u}
			return data, true, nil
		}
	}
	row, err := s.client.Session.Query().
		Where(session.TokenHash(hash), session.ExpiryGT(s.now())).
		Only(viewer.AsServer(ctx))
	switch {
	case ent.IsNotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	if reading {
		*read = sessionRead{hash: hash, data: row.Data, expiry: row.Expiry}
	}
	return row.Data, true, nil
}

// Columns of the session that findWithUser reads besides the user's.
const (
	sessionDataColumn   = "session_data"
	sessionExpiryColumn = "session_expiry"
)

// findWithUser reads a live session and its signed-in user in one statement: the user
// with the session joined, its data and expiry selected besides the user's columns. ok is
// false when that finds nothing, also for a session without a user (or whose user is
// gone): FindCtx then reads the session alone, as before.
func (s *Store) findWithUser(ctx context.Context, hash string) (*ent.User, []byte, time.Time, bool) {
	u, err := s.client.User.Query().
		Where(func(sel *sql.Selector) {
			t := sql.Table(session.Table)
			sel.Join(t).On(sel.C(user.FieldID), t.C(session.FieldUserID)).
				AppendSelect(sql.As(t.C(session.FieldData), sessionDataColumn), sql.As(t.C(session.FieldExpiry), sessionExpiryColumn)).
				Where(sql.And(sql.EQ(t.C(session.FieldTokenHash), hash), sql.GT(t.C(session.FieldExpiry), s.now())))
		}).
		Only(viewer.AsServer(ctx))
	if err != nil {
		return nil, nil, time.Time{}, false
	}
	rawData, err1 := u.Value(sessionDataColumn)
	rawExpiry, err2 := u.Value(sessionExpiryColumn)
	data, ok1 := rawData.([]byte)
	expiry, ok2 := rawExpiry.(time.Time)
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return nil, nil, time.Time{}, false
	}
	return u, data, expiry, true
}

// userRead is the user FindCtx read with the session of this request, or nil.
func userRead(ctx context.Context, id string) *ent.User {
	if read, ok := ctx.Value(sessionReadKey{}).(*sessionRead); ok && read.user != nil && read.user.ID == id {
		return read.user
	}
	return nil
}

// CommitCtx stores data for token until expiry. It updates a live session or creates a
// new one, and silently drops the write for a session that was deleted or has expired.
func (s *Store) CommitCtx(ctx context.Context, token string, data []byte, expiry time.Time) error {
	hash := hashToken(token)
	uid, expiry := s.expiryOf(data, expiry)
	if read, ok := ctx.Value(sessionReadKey{}).(*sessionRead); ok && read.hash == hash &&
		sameData(read.data, data) && !expiry.Before(read.expiry) && expiry.Sub(read.expiry) < s.Refresh {
		return nil // only the idle deadline moved, and not by much
	}
	ctx = viewer.AsServer(ctx)
	n, err := s.client.Session.Update().
		Where(session.TokenHash(hash), session.ExpiryGT(s.now())).
		SetData(data).
		SetExpiry(expiry).
		SetUserID(uid).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	if n > 0 {
		return nil
	}
	err = s.client.Session.Create().SetTokenHash(hash).SetData(data).SetExpiry(expiry).SetUserID(uid).Exec(ctx)
	if ent.IsConstraintError(err) {
		// A tombstone: the session ended while this request was running.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// DeleteCtx ends a session. The row stays as an expired tombstone until Cleanup.
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.client.Session.Update().
		Where(session.TokenHash(hashToken(token))).
		SetData([]byte{}).
		SetExpiry(s.now().Add(-time.Second)).
		Save(viewer.AsServer(ctx))
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// sameData reports whether two encodings of session data hold the same: scs's gob
// encoding writes the values map in Go's random map order, so equal data rarely encodes to
// equal bytes, and comparing bytes wrote back most unchanged sessions.
func sameData(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	da, errA := sessionCodec.decode(a)
	db, errB := sessionCodec.decode(b)
	return errA == nil && errB == nil && da.deadline.Equal(db.deadline) && reflect.DeepEqual(da.values, db.values)
}

// expiryOf returns the user id in a session's data (scs's gob encoding), or "", and when
// the session ends if it is written now: IdleTimeout from now, or Lifetime after the
// sign-in the data records, whichever is first. A session without a sign-in time (written
// by an older version) keeps scs's expiry.
func (s *Store) expiryOf(data []byte, scsExpiry time.Time) (string, time.Time) {
	d, err := sessionCodec.decode(data)
	if err != nil {
		return "", scsExpiry
	}
	values := d.values
	uid, _ := values[keyUserID].(string)
	at, ok := values[keySignedInAt].(int64)
	if !ok || s.idle <= 0 || s.lifetime <= 0 {
		return uid, scsExpiry
	}
	expiry := s.now().Add(s.idle)
	if end := time.Unix(0, at).Add(s.lifetime); end.Before(expiry) {
		expiry = end
	}
	return uid, expiry.UTC()
}

// EndUserSessions ends every live session of the user except the one with token keep
// ("" ends all), and returns how many it ended, at now. client may be a transaction's, so that a
// change of state and the end of the sessions commit together. Like DeleteCtx it leaves
// expired tombstones, which a request still in flight cannot revive. An open WebSocket of
// an ended session closes at its next check (Config.SessionCheckInterval).
func EndUserSessions(ctx context.Context, client *ent.Client, now time.Time, userID, keep string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	q := client.Session.Update().Where(session.UserID(userID), session.ExpiryGT(now))
	if keep != "" {
		q = q.Where(session.TokenHashNEQ(hashToken(keep)))
	}
	n, err := q.SetData([]byte{}).SetExpiry(now.Add(-time.Second)).Save(viewer.AsServer(ctx))
	if err != nil {
		return 0, fmt.Errorf("end sessions of user: %w", err)
	}
	return n, nil
}

// SessionToken returns the session token of a cookie-authenticated request's context
// (Middleware puts it there), or "".
func SessionToken(ctx context.Context) string {
	t, _ := ctx.Value(sessionKey{}).(string)
	return t
}

// Find implements scs.Store for callers without a context.
func (s *Store) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit implements scs.Store for callers without a context.
func (s *Store) Commit(token string, data []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, data, expiry)
}

// Delete implements scs.Store for callers without a context.
func (s *Store) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// Cleanup deletes the rows that expired more than the grace period ago and returns how
// many.
func (s *Store) Cleanup(ctx context.Context) (int, error) {
	n, err := s.client.Session.Delete().
		Where(session.ExpiryLT(s.now().Add(-s.grace))).
		Exec(viewer.AsServer(ctx))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// live reports whether the session with token is still live, for WebSocket checks.
func (s *Store) live(ctx context.Context, token string) (bool, error) {
	return s.client.Session.Query().
		Where(session.TokenHash(hashToken(token)), session.ExpiryGT(s.now())).
		Exist(viewer.AsServer(ctx))
}

// RunCleanup deletes expired sessions every interval until ctx ends.
func (s *Store) RunCleanup(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Cleanup(ctx); err != nil {
				logger.WarnContext(ctx, "session cleanup failed", "err", err)
			} else if n > 0 {
				logger.DebugContext(ctx, "expired sessions deleted", "count", n)
			}
		}
	}
}
