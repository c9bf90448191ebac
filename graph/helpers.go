package graph

import (
	"context"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/schema"
	"github.com/vscard/vscard/graph/model"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/notices"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/record"
)

// maxPageSize caps first/last and nodes(ids:): a client pages instead of pulling everything.
const maxPageSize = 100

// maxCardStatuses caps cardStatuses: a portal asks for a screenful of cards at a time, and
// one request's statement stays a bounded IN list.
const maxCardStatuses = 100

func checkPage(first, last *int) error {
	for _, n := range []*int{first, last} {
		if n != nil && (*n < 0 || *n > maxPageSize) {
			return tooMany(*n)
		}
	}
	return nil
}

func tooMany(n int) error {
	return errs.New(errs.InvalidInput, "A page holds at most %d items; %d were asked for.", maxPageSize, n)
}

// notFound turns ent's not-found (which privacy also gives for rows the viewer may not
// see) into NOT_FOUND, so a hidden row and a missing row look the same.
func notFound[T any](v T, err error) (T, error) {
	if ent.IsNotFound(err) || ent.IsNotSingular(err) {
		var zero T
		return zero, errs.New(errs.NotFound, "Not found.")
	}
	return v, err
}

// nodeType resolves an id's table from its prefix (see ent/schema.NewID).
func nodeType(_ context.Context, id string) (string, error) {
	if t, ok := schema.IDPrefixes[schema.PrefixOf(id)]; ok {
		return t, nil
	}
	return "", errs.New(errs.NotFound, "No object has id %q.", id)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func toDevice(d *model.DeviceInput) *record.Device {
	if d == nil {
		return nil
	}
	return &record.Device{Reader: d.Reader, Host: deref(d.Host), BridgeVersion: deref(d.BridgeVersion), Firmware: deref(d.Firmware)}
}

// CardStatusColumns and CertificateStatusColumns are what cardStatus reads, so that a
// look-up selects no more (not the card's keys and properties, not the certificates' DER).
// The card-status benchmark's baseline sends the same statements.
var (
	CardStatusColumns        = []string{card.FieldSerial, card.FieldState, card.FieldValidFrom, card.FieldValidUntil, card.FieldKeyProtection}
	CertificateStatusColumns = []string{
		certificate.FieldSerial, certificate.FieldSlot, certificate.FieldTemplate,
		certificate.FieldState, certificate.FieldNotAfter, certificate.FieldRevokedAt,
	}
)

func cardStatus(c *ent.Card) *model.CardStatus {
	out := &model.CardStatus{Serial: c.Serial, State: c.State, ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil, KeyProtection: c.KeyProtection}
	for _, crt := range c.Edges.Certificates {
		out.Certificates = append(out.Certificates, &model.CertificateStatus{
			Serial: crt.Serial, Slot: crt.Slot, Template: crt.Template, State: crt.State,
			NotAfter: crt.NotAfter, RevokedAt: crt.RevokedAt,
		})
	}
	return out
}

func scriptValidation(opts *cardspec.Options, problems []options.ScriptError) *model.ScriptValidation {
	v := &model.ScriptValidation{Ok: len(problems) == 0, Options: opts, Errors: []*model.ScriptProblem{}}
	for _, p := range problems {
		var path *string
		if p.Path != "" {
			path = &p.Path
		}
		v.Errors = append(v.Errors, &model.ScriptProblem{Line: p.Line, Column: p.Column, Message: p.Message, Path: path})
	}
	if !v.Ok {
		v.Options = nil
	}
	return v
}

// taskProcess is the process a task offers on its card, as processes(card:) gives it, or
// nil when this server does not run it (renew-virtual-smart-card before it is registered).
func (r *Resolver) taskProcess(ctx context.Context, t *ent.Task) (*enroll.Process, error) {
	name := notices.Process(t)
	list, err := r.Enroll.Processes(ctx, t.CardID)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, nil
}
