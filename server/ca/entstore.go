package ca

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/cacrl"
	"github.com/vscard/vscard/ent/carecord"
	"github.com/vscard/vscard/ent/predicate"
	"github.com/vscard/vscard/server/viewer"
)

// EntStore keeps the CA's records in the ca_records table through ent.
type EntStore struct {
	client *ent.Client
}

var _ Store = (*EntStore)(nil)

// NewEntStore returns a Store on client. The schema must exist (client.Schema.Create or
// the server's migrations), and the program must import ent/runtime, as every ent program
// with hooks and privacy policies does.
func NewEntStore(client *ent.Client) *EntStore { return &EntStore{client: client} }

// system marks ctx as the CA's own access: the CA is the server acting on its own behalf,
// and the privacy policies that guard these rows for users must not apply to it.
func system(ctx context.Context) context.Context { return viewer.AsServer(ctx) }

// Reserve implements Store.
func (s *EntStore) Reserve(ctx context.Context, rec *Record) error {
	err := s.client.CaRecord.Create().
		SetSerial(rec.Serial).
		SetReference(rec.Reference).
		SetTemplate(rec.Template).
		SetSubject(rec.Subject).
		SetNotBefore(rec.NotBefore).
		SetNotAfter(rec.NotAfter).
		SetState(carecord.StatePENDING).
		Exec(system(ctx))
	if ent.IsConstraintError(err) {
		return fmt.Errorf("insert ca record %s: %w", rec.Serial, ErrSerialTaken)
	}
	if err != nil {
		return fmt.Errorf("insert ca record %s: %w", rec.Serial, err)
	}
	return nil
}

var _ BatchStore = (*EntStore)(nil)

// ReserveAll implements BatchStore: one INSERT of every record.
func (s *EntStore) ReserveAll(ctx context.Context, recs []*Record) error {
	creates := make([]*ent.CaRecordCreate, len(recs))
	for i, rec := range recs {
		creates[i] = s.client.CaRecord.Create().
			SetSerial(rec.Serial).
			SetReference(rec.Reference).
			SetTemplate(rec.Template).
			SetSubject(rec.Subject).
			SetNotBefore(rec.NotBefore).
			SetNotAfter(rec.NotAfter).
			SetState(carecord.StatePENDING)
	}
	err := s.client.CaRecord.CreateBulk(creates...).Exec(system(ctx))
	if ent.IsConstraintError(err) {
		return fmt.Errorf("insert %d ca records: %w", len(recs), ErrSerialTaken)
	}
	if err != nil {
		return fmt.Errorf("insert %d ca records: %w", len(recs), err)
	}
	return nil
}

// MarkAllIssued implements BatchStore in one statement: the records' rows are written
// again, and as each exists (reserved before signing), the conflict on its serial turns
// the insert into the update MarkIssued makes: the DER stored, PENDING to VALID, any other
// state kept.
func (s *EntStore) MarkAllIssued(ctx context.Context, recs []*Record) error {
	now := time.Now()
	creates := make([]*ent.CaRecordCreate, len(recs))
	for i, rec := range recs {
		creates[i] = s.client.CaRecord.Create().
			SetSerial(rec.Serial).
			SetReference(rec.Reference).
			SetTemplate(rec.Template).
			SetSubject(rec.Subject).
			SetNotBefore(rec.NotBefore).
			SetNotAfter(rec.NotAfter).
			SetState(carecord.StateVALID).
			SetDer(rec.DER).
			SetUpdatedAt(now)
	}
	err := s.client.CaRecord.CreateBulk(creates...).
		OnConflict(sql.ConflictColumns(carecord.FieldSerial), sql.ResolveWith(func(u *sql.UpdateSet) {
			state := u.Table().C(carecord.FieldState)
			u.SetExcluded(carecord.FieldDer)
			u.SetExcluded(carecord.FieldUpdatedAt)
			u.Set(carecord.FieldState, sql.Expr(fmt.Sprintf("CASE WHEN %s = '%s' THEN '%s' ELSE %s END",
				state, carecord.StatePENDING, carecord.StateVALID, state)))
		})).
		Exec(system(ctx))
	if err != nil {
		return fmt.Errorf("update %d ca records: %w", len(recs), err)
	}
	return nil
}

// MarkIssued implements Store.
func (s *EntStore) MarkIssued(ctx context.Context, serial string, der []byte) error {
	ctx = system(ctx)
	n, err := s.client.CaRecord.Update().
		Where(carecord.Serial(serial), carecord.StateEQ(carecord.StatePENDING)).
		SetDer(der).
		SetState(carecord.StateVALID).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("update ca record %s: %w", serial, err)
	}
	if n == 1 {
		return nil
	}
	// Revoked while being signed: keep the state, store the certificate.
	n, err = s.client.CaRecord.Update().Where(carecord.Serial(serial)).SetDer(der).Save(ctx)
	if err != nil {
		return fmt.Errorf("update ca record %s: %w", serial, err)
	}
	if n == 0 {
		return fmt.Errorf("update ca record %s: %w", serial, ErrRecordNotFound)
	}
	return nil
}

// Revoke implements Store.
func (s *EntStore) Revoke(ctx context.Context, serial string, state Status, at time.Time, reason int) error {
	n, err := s.client.CaRecord.Update().
		Where(carecord.Serial(serial)).
		SetState(carecord.State(state)).
		SetRevokedAt(at).
		SetRevocationReason(reason).
		Save(system(ctx))
	if err := updated(serial, n, err); err != nil {
		return err
	}
	return s.countCRLChange(ctx, serial)
}

// Reinstate implements Store.
func (s *EntStore) Reinstate(ctx context.Context, serial string) error {
	n, err := s.client.CaRecord.Update().
		Where(carecord.Serial(serial)).
		SetState(carecord.StateVALID).
		ClearRevokedAt().
		ClearRevocationReason().
		Save(system(ctx))
	if err := updated(serial, n, err); err != nil {
		return err
	}
	return s.countCRLChange(ctx, serial)
}

// countCRLChange counts a change of serial's record in the stored CRLs that list it (its
// partition and the whole CRL), after the record's update: see [CRLStore]. A scope with no
// stored CRL yet has no row to count in, and its first CRL lists the record anyway.
func (s *EntStore) countCRLChange(ctx context.Context, serial string) error {
	err := s.client.CaCRL.Update().
		Where(cacrl.ScopeIn(int(fullCRL), int(partitionOf(serial)))).
		AddChanges(1).
		Exec(system(ctx))
	if err != nil {
		return fmt.Errorf("count CRL change for %s: %w", serial, err)
	}
	return nil
}

var _ CRLStore = (*EntStore)(nil)

// LoadCRL implements CRLStore: one statement, two when the DER is new to the caller.
func (s *EntStore) LoadCRL(ctx context.Context, scope int, have string) (*StoredCRL, error) {
	r, err := s.client.CaCRL.Query().Where(cacrl.Scope(scope)).
		Select(cacrl.FieldNumber, cacrl.FieldThisUpdate, cacrl.FieldNextUpdate, cacrl.FieldChanges, cacrl.FieldSignedChanges).
		Only(system(ctx))
	switch {
	case ent.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	st := &StoredCRL{Number: r.Number, Changes: r.Changes, SignedChanges: r.SignedChanges}
	if r.ThisUpdate != nil && r.NextUpdate != nil {
		st.ThisUpdate, st.NextUpdate = *r.ThisUpdate, *r.NextUpdate
	}
	if st.Number != "" && st.Number != have {
		// Only the CRL of that number: another instance may have stored a newer one
		// since, and a DER must never be paired with another CRL's number.
		der, err := s.client.CaCRL.Query().Where(cacrl.Scope(scope), cacrl.Number(st.Number)).
			Select(cacrl.FieldDer).Only(system(ctx))
		switch {
		case ent.IsNotFound(err):
			return nil, nil // replaced in between: the caller asks again next time
		case err != nil:
			return nil, err
		}
		st.DER = der.Der
	}
	return st, nil
}

// ClaimCRL implements CRLStore: the row is created on first use, then one conditional
// UPDATE that only one instance wins while no unexpired claim holds.
func (s *EntStore) ClaimCRL(ctx context.Context, scope int, holder string, now, until time.Time) (bool, int64, error) {
	ctx = system(ctx)
	err := s.client.CaCRL.Create().SetScope(scope).
		OnConflictColumns(cacrl.FieldScope).Ignore().Exec(ctx)
	if err != nil {
		return false, 0, err
	}
	n, err := s.client.CaCRL.Update().
		Where(cacrl.Scope(scope), cacrl.Or(cacrl.LeaseUntilIsNil(), cacrl.LeaseUntilLTE(now))).
		SetHolder(holder).SetLeaseUntil(until).
		Save(ctx)
	if err != nil || n == 0 {
		return false, 0, err
	}
	// Read after the claim and before the signer lists the records (see CRLStore).
	r, err := s.client.CaCRL.Query().Where(cacrl.Scope(scope)).Select(cacrl.FieldChanges).Only(ctx)
	if err != nil {
		return false, 0, err
	}
	return true, r.Changes, nil
}

// SaveCRL implements CRLStore.
func (s *EntStore) SaveCRL(ctx context.Context, scope int, holder string, changes int64, crl *StoredCRL) error {
	n, err := s.client.CaCRL.Update().
		Where(cacrl.Scope(scope), cacrl.Holder(holder), cacrl.LeaseUntilNotNil()).
		SetNumber(crl.Number).SetDer(crl.DER).
		SetThisUpdate(crl.ThisUpdate).SetNextUpdate(crl.NextUpdate).
		SetSignedChanges(changes).ClearLeaseUntil().
		Save(system(ctx))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("CRL scope %d, holder %s: %w", scope, holder, ErrCRLClaimLost)
	}
	return nil
}

// ReleaseCRL implements CRLStore.
func (s *EntStore) ReleaseCRL(ctx context.Context, scope int, holder string) error {
	return s.client.CaCRL.Update().
		Where(cacrl.Scope(scope), cacrl.Holder(holder)).
		ClearLeaseUntil().
		Exec(system(ctx))
}

func updated(serial string, n int, err error) error {
	if err != nil {
		return fmt.Errorf("update ca record %s: %w", serial, err)
	}
	if n == 0 {
		return fmt.Errorf("update ca record %s: %w", serial, ErrRecordNotFound)
	}
	return nil
}

// Get implements Store.
func (s *EntStore) Get(ctx context.Context, serial string) (*Record, error) {
	r, err := s.client.CaRecord.Query().Where(carecord.Serial(serial)).Only(system(ctx))
	if ent.IsNotFound(err) {
		return nil, fmt.Errorf("get ca record %s: %w", serial, ErrRecordNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get ca record %s: %w", serial, err)
	}
	return toRecord(r), nil
}

// ListByReference implements Store.
func (s *EntStore) ListByReference(ctx context.Context, reference string) ([]*Record, error) {
	rs, err := s.client.CaRecord.Query().
		Where(carecord.Reference(reference)).
		Order(ent.Asc(carecord.FieldCreatedAt), ent.Asc(carecord.FieldSerial)).
		All(system(ctx))
	if err != nil {
		return nil, fmt.Errorf("list ca records of %s: %w", reference, err)
	}
	return toRecords(rs), nil
}

// ListRevoked implements Store.
func (s *EntStore) ListRevoked(ctx context.Context, notAfterSince time.Time, suffix string) ([]*Record, error) {
	where := []predicate.CaRecord{
		carecord.StateIn(carecord.StateREVOKED, carecord.StateON_HOLD),
		carecord.NotAfterGTE(notAfterSince),
	}
	if suffix != "" {
		where = append(where, carecord.SerialHasSuffix(suffix))
	}
	// Only what a CRL entry needs: at 100,000 revoked certificates, the DER column alone
	// would be some 60 MB per CRL.
	rs, err := s.client.CaRecord.Query().
		Where(where...).
		Order(ent.Asc(carecord.FieldSerial)).
		Select(carecord.FieldSerial, carecord.FieldState, carecord.FieldNotAfter,
			carecord.FieldRevokedAt, carecord.FieldRevocationReason).
		All(system(ctx))
	if err != nil {
		return nil, fmt.Errorf("list revoked ca records: %w", err)
	}
	return toRecords(rs), nil
}

func toRecords(rs []*ent.CaRecord) []*Record {
	out := make([]*Record, len(rs))
	for i, r := range rs {
		out[i] = toRecord(r)
	}
	return out
}

func toRecord(r *ent.CaRecord) *Record {
	rec := &Record{
		Serial:    r.Serial,
		Reference: r.Reference,
		Template:  r.Template,
		Subject:   r.Subject,
		NotBefore: r.NotBefore,
		NotAfter:  r.NotAfter,
		State:     Status(r.State),
		DER:       r.Der,
	}
	if r.RevokedAt != nil {
		rec.RevokedAt = *r.RevokedAt
	}
	if r.RevocationReason != nil {
		rec.RevocationReason = *r.RevocationReason
	}
	return rec
}

var _ SerialLister = (*EntStore)(nil)

// CountSerials implements SerialLister.
func (s *EntStore) CountSerials(ctx context.Context) (int, error) {
	n, err := s.client.CaRecord.Query().Count(system(ctx))
	if err != nil {
		return 0, fmt.Errorf("count ca records: %w", err)
	}
	return n, nil
}

// Serials implements SerialLister.
func (s *EntStore) Serials(ctx context.Context, after string, limit int) ([]string, error) {
	out, err := s.client.CaRecord.Query().
		Where(carecord.SerialGT(after)).
		Order(ent.Asc(carecord.FieldSerial)).
		Limit(limit).
		Select(carecord.FieldSerial).
		Strings(system(ctx))
	if err != nil {
		return nil, fmt.Errorf("list ca serials after %q: %w", after, err)
	}
	return out, nil
}
