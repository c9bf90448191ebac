package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/predicate"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// auditExportPage is how many events the export reads at a time: memory stays that of
// one page whatever the log's size.
const auditExportPage = 1000

// maxAuditExportActions bounds the action filter.
const maxAuditExportActions = 50

// auditFilter is what an export of the audit log asks for.
type auditFilter struct {
	person   string
	actions  []string
	from, to time.Time
}

func (f auditFilter) predicates() []predicate.AuditEvent {
	var ps []predicate.AuditEvent
	if f.person != "" {
		// What they did and what was done about them (their account, cards, orders,
		// certificates): two index ranges, (actor_id, at) and (subject_id, at).
		ps = append(ps, auditevent.Or(auditevent.ActorID(f.person), auditevent.SubjectID(f.person)))
	}
	if len(f.actions) > 0 {
		ps = append(ps, auditevent.ActionIn(f.actions...))
	}
	if !f.from.IsZero() {
		ps = append(ps, auditevent.AtGTE(f.from))
	}
	if !f.to.IsZero() {
		ps = append(ps, auditevent.AtLT(f.to))
	}
	return ps
}

// parseAuditFilter reads person (a person's id: events they did, or about their
// account, cards and orders), action (repeated), from and to (RFC 3339; from inclusive, to exclusive).
func parseAuditFilter(r *http.Request) (auditFilter, *errs.Error) {
	q := r.URL.Query()
	f := auditFilter{person: q.Get("person")}
	for _, a := range q["action"] {
		for _, one := range strings.Split(a, ",") {
			if one = strings.TrimSpace(one); one != "" {
				f.actions = append(f.actions, one)
			}
		}
	}
	if len(f.actions) > maxAuditExportActions {
		return f, errs.New(errs.InvalidInput, "At most %d actions in one export.", maxAuditExportActions).
			WithDetails(map[string]any{"field": "action", "max": maxAuditExportActions})
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"from", &f.from}, {"to", &f.to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, errs.New(errs.InvalidInput, "%s must be a time such as 2026-12-01T00:00:00Z.", p.name).
					WithDetails(map[string]any{"field": p.name})
			}
			*p.to = t
		}
	}
	return f, nil
}

// exportAudit streams the audit log, newest first, as CSV (format=csv, the default) or
// JSON Lines (format=jsonl), to operators and administrators. It reads a page of events at a time by
// keyset (at, id) and flushes each, so a million events cost the memory of one page.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request) {
	v := viewer.FromContext(r.Context())
	switch {
	case v == nil:
		errs.Write(w, errs.New(errs.Unauthenticated, "Sign in to export the audit log."))
		return
	case !v.IsOperator(): // administrators are operators too
		errs.Write(w, errs.New(errs.Forbidden, "The audit log is for operators and administrators."))
		return
	}
	f, err := parseAuditFilter(r)
	if err != nil {
		errs.Write(w, err)
		return
	}
	format := r.URL.Query().Get("format")
	var out auditWriter
	switch format {
	case "", "csv":
		format, out = "csv", newAuditCSV(w)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	case "jsonl":
		out = &auditJSONL{enc: json.NewEncoder(w)}
		w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	default:
		errs.Write(w, errs.New(errs.InvalidInput, "format must be csv or jsonl.").WithDetails(map[string]any{"field": "format"}))
		return
	}
	ctx := r.Context()
	// The export is itself worth knowing about: who took the log away, with which filter.
	if err := audit.Write(ctx, s.DB.Client.AuditEvent, audit.Entry{
		Action: "audit.export", ObjectType: "AuditLog", ObjectID: "audit",
		Details: map[string]any{"format": format, "person": f.person, "actions": f.actions,
			"from": timeOrEmpty(f.from), "to": timeOrEmpty(f.to)},
	}); err != nil {
		s.log.Error("audit the audit log's export", "err", err)
		errs.Write(w, errs.Wrap(err, errs.Internal, "The audit log cannot be exported right now."))
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="vscard-audit-%s.%s"`,
		s.Config.Now().UTC().Format("20060102T150405Z"), format))
	w.Header().Set("Cache-Control", "no-store")
	if err := s.streamAudit(ctx, w, f, out); err != nil {
		// The header is out: the client sees a cut file; the log says why.
		s.log.Error("export the audit log", "err", err)
	}
}

// streamAudit writes the events f selects, newest first, page by page.
func (s *Server) streamAudit(ctx context.Context, w http.ResponseWriter, f auditFilter, out auditWriter) error {
	ctx = viewer.AsServer(ctx)
	rc := http.NewResponseController(w)
	if err := out.header(); err != nil {
		return err
	}
	var last *ent.AuditEvent
	for {
		q := s.DB.Client.AuditEvent.Query().Where(f.predicates()...)
		if last != nil {
			q = q.Where(auditevent.Or(auditevent.AtLT(last.At),
				auditevent.And(auditevent.AtEQ(last.At), auditevent.IDLT(last.ID))))
		}
		page, err := q.Order(ent.Desc(auditevent.FieldAt), ent.Desc(auditevent.FieldID)).
			Limit(auditExportPage).All(ctx)
		if err != nil {
			return fmt.Errorf("read audit events: %w", err)
		}
		labels, err := audit.Labels(ctx, s.DB.Client, page)
		if err != nil {
			return err
		}
		for _, ev := range page {
			if err := out.row(ev, labels[ev.ID]); err != nil {
				return err
			}
		}
		if err := out.flush(); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil {
			return fmt.Errorf("flush the export: %w", err)
		}
		if len(page) < auditExportPage {
			return nil
		}
		last = page[len(page)-1]
	}
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// auditWriter writes the rows of an export in one format.
type auditWriter interface {
	header() error
	row(ev *ent.AuditEvent, l audit.Label) error
	flush() error
}

type auditCSV struct{ w *csv.Writer }

func newAuditCSV(w http.ResponseWriter) *auditCSV { return &auditCSV{w: csv.NewWriter(w)} }

func (c *auditCSV) header() error {
	return c.w.Write([]string{"time", "actor", "actor_name", "actor_kind", "actor_id", "action",
		"object_type", "object_id", "object", "subject_id", "subject", "remote_addr", "details"})
}

func (c *auditCSV) row(ev *ent.AuditEvent, l audit.Label) error {
	details := ""
	if len(ev.Details) > 0 {
		b, err := json.Marshal(ev.Details)
		if err != nil {
			return fmt.Errorf("encode details of %s: %w", ev.ID, err)
		}
		details = string(b)
	}
	cells := []string{ev.At.UTC().Format(time.RFC3339Nano), ev.Actor, l.ActorName, ev.ActorKind, ev.ActorID,
		ev.Action, ev.ObjectType, ev.ObjectID, l.ObjectLabel, l.SubjectID, l.SubjectName, ev.RemoteAddr, details}
	for i, cell := range cells {
		cells[i] = spreadsheetSafe(cell)
	}
	return c.w.Write(cells)
}

func (c *auditCSV) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// spreadsheetSafe keeps a cell from being read as a formula by a spreadsheet (OWASP's
// CSV injection advice): a cell that starts with = + - @, a tab or a carriage return
// gets a leading apostrophe. Names and details come from people and identity providers.
func spreadsheetSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

type auditJSONL struct{ enc *json.Encoder }

// auditLine is one event of a JSON Lines export.
type auditLine struct {
	ID          string         `json:"id"`
	At          time.Time      `json:"at"`
	Actor       string         `json:"actor"`
	ActorName   string         `json:"actorName"`
	ActorKind   string         `json:"actorKind"`
	ActorID     string         `json:"actorID,omitempty"`
	Action      string         `json:"action"`
	ObjectType  string         `json:"objectType"`
	ObjectID    string         `json:"objectID"`
	ObjectLabel string         `json:"objectLabel,omitempty"`
	SubjectID   string         `json:"subjectID,omitempty"`
	SubjectName string         `json:"subjectName,omitempty"`
	RemoteAddr  string         `json:"remoteAddr,omitempty"`
	Details     map[string]any `json:"details,omitempty"`
}

func (j *auditJSONL) header() error { return nil }

func (j *auditJSONL) row(ev *ent.AuditEvent, l audit.Label) error {
	return j.enc.Encode(auditLine{
		ID: ev.ID, At: ev.At.UTC(), Actor: ev.Actor, ActorName: l.ActorName, ActorKind: ev.ActorKind,
		ActorID: ev.ActorID, Action: ev.Action, ObjectType: ev.ObjectType, ObjectID: ev.ObjectID,
		ObjectLabel: l.ObjectLabel, SubjectID: l.SubjectID, SubjectName: l.SubjectName,
		RemoteAddr: ev.RemoteAddr, Details: ev.Details,
	})
}

func (j *auditJSONL) flush() error { return nil }
