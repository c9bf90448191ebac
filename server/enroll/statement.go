package enroll

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"
	"entgo.io/ent/schema/field"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/migrate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
)

// A transition on PostgreSQL is one statement: the order's version-checked UPDATE and,
// hanging off its RETURNING, the audit events and the rows the move writes besides the
// order, as data-modifying CTEs:
//
//	WITH "u" AS (UPDATE "orders" SET … WHERE "id" = $1 AND "version" = $2 [AND condition…] RETURNING "id"),
//	     "w0" AS (INSERT INTO "cards" (…) SELECT $… WHERE EXISTS (SELECT 1 FROM "u")),
//	     "w1" AS (UPDATE "cards" SET … WHERE … AND EXISTS (SELECT 1 FROM "u")),
//	     "w2" AS (INSERT INTO "audit_events" (…) SELECT $… WHERE EXISTS (SELECT 1 FROM "u"))
//	SELECT COUNT(*) FROM "u"
//
// A statement is atomic, so the events and rows commit with the update or not at all,
// and they are written only when the update matched: a request that lost the race
// writes nothing. That replaces BEGIN, the update, each further write, the audit insert
// and COMMIT (5–7 round trips) with one. SQLite knows no data-modifying CTEs; there the
// same statements run one after the other in a transaction (transition).

type (
	stdRows   = stdsql.Rows
	stdResult = stdsql.Result
)

// write is a row a transition changes besides the order's: it commits with the
// transition, and only when the order's version check passes.
type write struct {
	table   string
	columns []string
	values  []any
	// where, for an update, selects the rows whose columns are set to values; an insert
	// has none and adds one row.
	where *sql.Predicate
}

// insertRow is a write that adds one row to table: columns and values in pairs.
func insertRow(table string, pairs ...any) write {
	w := write{table: table}
	w.columns, w.values = split(pairs)
	return w
}

// updateRows is a write that sets columns (pairs of column and value) on the rows of
// table that where selects.
func updateRows(table string, where *sql.Predicate, pairs ...any) write {
	w := write{table: table, where: where}
	w.columns, w.values = split(pairs)
	return w
}

func split(pairs []any) ([]string, []any) {
	cols, vals := make([]string, 0, len(pairs)/2), make([]any, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		cols = append(cols, pairs[i].(string))
		vals = append(vals, pairs[i+1])
	}
	return cols, vals
}

// condition is something a transition needs besides its legal move, checked together
// with the order's version: when it does not hold, nothing changes and the transition
// fails with why's error.
type condition struct {
	// holds is an SQL boolean expression over other tables than "orders".
	holds *sql.Predicate
	why   func(ctx context.Context) error
}

// columnTypes are each table's columns' types, from the generated schema: a JSON column
// takes its value marshalled, as ent's own statements send it.
var columnTypes = func() map[string]map[string]field.Type {
	out := map[string]map[string]field.Type{}
	for _, t := range migrate.Tables {
		cols := map[string]field.Type{}
		for _, c := range t.Columns {
			cols[c.Name] = c.Type
		}
		out[t.Name] = cols
	}
	return out
}()

// value is v as the driver takes it for table's column.
func value(table, column string, v any) (any, error) {
	types, ok := columnTypes[table]
	if !ok {
		return nil, fmt.Errorf("unknown table %s", table)
	}
	t, ok := types[column]
	if !ok {
		return nil, fmt.Errorf("unknown column %s.%s", table, column)
	}
	if raw, ok := v.(json.RawMessage); ok && t == field.TypeJSON {
		return []byte(raw), nil // encoded already (orderChanges)
	}
	if t == field.TypeJSON && v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s.%s: %w", table, column, err)
		}
		return b, nil
	}
	return v, nil
}

// orderChanges are the columns and values m sets on an order, as an UPDATE sets them, or
// an error for a change a plain SET cannot make (an increment).
func orderChanges(m *ent.OrderMutation) ([]string, []any, error) {
	if len(m.AddedFields()) > 0 {
		return nil, nil, errors.New("increments are not supported")
	}
	var cols []string
	var vals []any
	for _, f := range m.Fields() {
		v, _ := m.Field(f)
		v, err := value(order.Table, f, v)
		if err != nil {
			return nil, nil, err
		}
		if b, ok := v.([]byte); ok && columnTypes[order.Table][f] == field.TypeJSON {
			v = json.RawMessage(b) // so that a write made of these values does not encode it again
		}
		cols, vals = append(cols, f), append(vals, v)
	}
	for _, f := range m.ClearedFields() {
		cols, vals = append(cols, f), append(vals, nil) // Arg(nil) is NULL
	}
	return cols, vals, nil
}

// auditRows are the inserts that record entries as audit.WriteAll would, done by the
// viewer in ctx.
func auditRows(ctx context.Context, entries []audit.Entry) []write {
	a := audit.Actor(ctx)
	now := time.Now() // as audit.WriteAll
	out := make([]write, len(entries))
	for i, e := range entries {
		out[i] = insertRow(auditevent.Table,
			auditevent.FieldID, auditevent.DefaultID(),
			auditevent.FieldAt, now,
			auditevent.FieldActor, a.Name,
			auditevent.FieldActorID, a.UserID,
			auditevent.FieldActorKind, a.Kind,
			auditevent.FieldAction, e.Action,
			auditevent.FieldObjectType, e.ObjectType,
			auditevent.FieldObjectID, e.ObjectID,
			auditevent.FieldRemoteAddr, a.Addr,
			auditevent.FieldSubjectID, audit.SubjectOf(e),
			auditevent.FieldDetails, audit.Reasoned(ctx, e.Details),
		)
	}
	return out
}

// render writes w as a statement of its own or, with a condition cond (SQL), as one that
// writes only when cond holds: a member of a transition's statement that happens only
// when the order's update returned its row.
func (w write) render(b *sql.Builder, cond string) error {
	vals := make([]any, len(w.values))
	for i, v := range w.values {
		var err error
		if vals[i], err = value(w.table, w.columns[i], v); err != nil {
			return err
		}
	}
	if w.where == nil {
		b.WriteString("INSERT INTO ").Ident(w.table).WriteString(" (").IdentComma(w.columns...).WriteString(")")
		if cond == "" {
			b.WriteString(" VALUES (").Args(vals...).WriteString(")")
		} else {
			b.WriteString(" SELECT ").Args(vals...).WriteString(" WHERE " + cond)
		}
		return nil
	}
	b.WriteString("UPDATE ").Ident(w.table).WriteString(" SET ")
	for i, c := range w.columns {
		if i > 0 {
			b.Comma()
		}
		b.Ident(c).WriteString(" = ").Arg(vals[i])
	}
	b.WriteString(" WHERE ").Join(w.where)
	if cond != "" {
		b.WriteString(" AND " + cond)
	}
	return nil
}

// updated is the condition of the writes of a transition's statement.
const orderUpdated = `EXISTS (SELECT 1 FROM "u")`

// oneStatement is the WITH clause of the transition of o as the single statement
// described above; the members that insert into table returning return their rows
// (RETURNING *), and are named in members.
func oneStatement(o *ent.Order, cols []string, vals []any, conds []condition, writes []write,
	returning string) (with string, args []any, members []string, err error) {
	b := &sql.Builder{}
	b.SetDialect(dialect.Postgres)
	b.WriteString(`WITH "u" AS (UPDATE `).Ident(order.Table).WriteString(" SET ")
	for i, c := range cols {
		if i > 0 {
			b.Comma()
		}
		b.Ident(c).WriteString(" = ").Arg(vals[i])
	}
	b.WriteString(" WHERE ").Ident(order.FieldID).WriteString(" = ").Arg(o.ID).
		WriteString(" AND ").Ident(order.FieldVersion).WriteString(" = ").Arg(o.Version)
	for _, c := range conds {
		b.WriteString(" AND (").Join(c.holds).WriteString(")")
	}
	b.WriteString(` RETURNING "id")`)
	for i, w := range writes {
		name := "w" + strconv.Itoa(i)
		b.WriteString(", ").Ident(name).WriteString(" AS (")
		if err := w.render(b, orderUpdated); err != nil {
			return "", nil, nil, err
		}
		if w.where == nil && w.table == returning {
			b.WriteString(" RETURNING *")
			members = append(members, name)
		}
		b.WriteString(")")
	}
	if err := b.Err(); err != nil {
		return "", nil, nil, err
	}
	with, args = b.Query()
	return with, args, members, nil
}

// runStatement sends one statement and returns the single integer it answers with.
func runStatement(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*stdRows, error)
}, query string, args []any) (int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return n, rows.Close()
}

// execWrite runs w as a statement of its own through ex (a transaction).
func execWrite(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (stdResult, error)
}, d string, w write) error {
	b := &sql.Builder{}
	b.SetDialect(d)
	if err := w.render(b, ""); err != nil {
		return err
	}
	query, args := b.Query()
	if _, err := ex.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("write %s: %w", w.table, err)
	}
	return nil
}

// check evaluates c through q (a transaction).
func (c condition) check(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*stdRows, error)
}, d string) (bool, error) {
	b := &sql.Builder{}
	b.SetDialect(d)
	b.WriteString("SELECT CASE WHEN (").Join(c.holds).WriteString(") THEN 1 ELSE 0 END")
	query, args := b.Query()
	n, err := runStatement(ctx, q, query, args)
	return n == 1, err
}

// errReadBack says an order's update changed a field afterUpdate cannot apply itself, and
// there is no transaction to read it back through.
var errReadBack = errors.New("the order must be read back")

// errUnmet says a condition of a transition did not hold.
var errUnmet = errors.New("a condition of the transition does not hold")

// dialect is the store's SQL dialect.
func (e *Engine) dialect() string {
	if e.cfg.Dialect == "" {
		return dialect.SQLite
	}
	return e.cfg.Dialect
}

// transitionInOne makes transition's change of o, m's writes and the audit entries in
// one statement (see the top of this file) and returns the updated order. sys reads and
// writes; ctx is the caller's, whose viewer the audit events name.
func (e *Engine) transitionInOne(sys, ctx context.Context, o *ent.Order, m move,
	change func(*ent.OrderMutation), entries []audit.Entry) (*ent.Order, error) {
	mu := e.db.Order.Update().Mutation()
	change(mu)
	mu.SetUpdatedAt(order.UpdateDefaultUpdatedAt())
	cols, vals, err := orderChanges(mu)
	if err != nil {
		return nil, fmt.Errorf("update order: %w", err)
	}
	writes := append(slices.Clone(m.writes), auditRows(ctx, entries)...)
	returning := ""
	if m.inserted != nil {
		returning = certificate.Table
	}
	with, args, members, err := oneStatement(o, cols, vals, m.requires, writes, returning)
	if err != nil {
		return nil, fmt.Errorf("update order: %w", err)
	}
	var n int64
	if len(members) == 0 {
		n, err = runStatement(sys, e.db, with+` SELECT COUNT(*) FROM "u"`, args)
	} else {
		// The certificates come back from the statement as an ent query of the rows it
		// inserted: entities whose edges resolve for the caller, without reading them again.
		from := make([]string, len(members))
		for i, name := range members {
			from[i] = `SELECT * FROM "` + name + `"`
		}
		var rows []*ent.Certificate
		rows, err = e.db.Certificate.Query().Where(func(sel *sql.Selector) {
			sel.Prefix(sql.Expr(with, args...)).FromExpr(sql.Raw("(" + strings.Join(from, " UNION ALL ") + `) AS "certificates"`))
		}).All(sys)
		n, *m.inserted = int64(len(rows)), rows
	}
	if err != nil {
		return nil, fmt.Errorf("update order: %w", err)
	}
	if n == 0 {
		return nil, e.unchanged(sys, o, m)
	}
	updated, err := afterUpdate(sys, nil, o, mu)
	if errors.Is(err, errReadBack) {
		if updated, err = e.db.Order.Get(sys, o.ID); err == nil {
			updated = updated.Unwrap()
		}
	}
	return updated, err
}

// unchanged explains a one-statement transition that changed nothing: the order moved on
// meanwhile, or one of m's conditions does not hold.
func (e *Engine) unchanged(ctx context.Context, o *ent.Order, m move) error {
	cur, err := e.db.Order.Get(ctx, o.ID)
	if err != nil {
		return fmt.Errorf("reload order: %w", err)
	}
	if cur.Version == o.Version {
		for _, c := range m.requires {
			ok, err := c.check(ctx, e.db, e.dialect())
			if err != nil {
				return fmt.Errorf("check order: %w", err)
			}
			if !ok {
				return c.why(ctx)
			}
		}
	}
	return changed(cur.State, m.to)
}

// startInOne creates the order of m (Start's create builder's mutation, which ent's
// defaults complete here) and its audit event in one statement through tx, unless the
// person has an order in progress, which it refuses as Start does:
//
//	WITH "r" AS (SELECT "id" FROM "orders" WHERE "user_id" = $1 AND "state" IN (…) LIMIT 1),
//	     "i" AS (INSERT INTO "orders" (…) SELECT $… WHERE NOT EXISTS (SELECT 1 FROM "r") RETURNING *),
//	     "a" AS (INSERT INTO "audit_events" (…) SELECT $… WHERE EXISTS (SELECT 1 FROM "i"))
//	SELECT "orders"."id", … FROM "i" AS "orders"
//
// "r" answers the usual case, a person who has an order in progress, without an error; a
// concurrent start that committed after this statement's snapshot is caught by the unique
// index order_user_id_running, whose violation is the same refusal. details are the audit
// event's.
func (e *Engine) startInOne(sys, ctx context.Context, client *ent.Client, m *ent.OrderMutation, details map[string]any) (*ent.Order, error) {
	if _, ok := m.ID(); !ok {
		m.SetID(order.DefaultID())
	}
	at := order.DefaultCreatedAt() // ent's defaults, which Save would set
	if _, ok := m.CreatedAt(); !ok {
		m.SetCreatedAt(at)
	}
	if _, ok := m.UpdatedAt(); !ok {
		m.SetUpdatedAt(at)
	}
	if _, ok := m.Process(); !ok {
		m.SetProcess(order.DefaultProcess)
	}
	if _, ok := m.State(); !ok {
		m.SetState(order.DefaultState)
	}
	if _, ok := m.VerificationCode(); !ok {
		m.SetVerificationCode(order.DefaultVerificationCode)
	}
	if _, ok := m.Version(); !ok {
		m.SetVersion(order.DefaultVersion)
	}
	id, _ := m.ID()
	userID, _ := m.UserID()
	cols, vals, err := orderChanges(m)
	if err != nil {
		return nil, fmt.Errorf("create order: %w", err)
	}
	row := write{table: order.Table, columns: append([]string{order.FieldID}, cols...), values: append([]any{id}, vals...)}
	events := auditRows(ctx, []audit.Entry{{
		Action: "order.start", ObjectType: "Order", ObjectID: id, Subject: userID, Details: details,
	}})
	b := &sql.Builder{}
	b.SetDialect(dialect.Postgres)
	b.WriteString(`WITH "r" AS (SELECT "id" FROM "orders" WHERE "user_id" = `).Arg(userID).
		WriteString(` AND "state" IN (`)
	for i, s := range running {
		if i > 0 {
			b.Comma()
		}
		b.Arg(s)
	}
	b.WriteString(`) LIMIT 1), "i" AS (`)
	if err := row.render(b, `NOT EXISTS (SELECT 1 FROM "r")`); err != nil {
		return nil, err
	}
	b.WriteString(` RETURNING *), "a" AS (`)
	if err := events[0].render(b, `EXISTS (SELECT 1 FROM "i")`); err != nil {
		return nil, err
	}
	b.WriteString(")")
	query, args := b.Query()
	// Sent as an ent query of the inserted row, so that the order it returns is one ent
	// read: its edges resolve for the caller.
	created, err := client.Order.Query().Where(func(sel *sql.Selector) {
		sel.Prefix(sql.Expr(query, args...)).FromExpr(sql.Raw(`"i" AS "orders"`))
	}).All(sys)
	if err != nil && !sqlgraph.IsUniqueConstraintError(err) {
		return nil, fmt.Errorf("create order: %w", err)
	}
	if len(created) == 0 { // "r" found one, or a start that raced this one made it: say which
		running, rerr := runningOrder(sys, client.Order, userID)
		if running == nil && rerr == nil { // and it ended since
			return nil, errs.New(errs.Conflict, "You already have a card order in progress; continue or cancel it first.")
		}
		return nil, refuseSecondOrder(running, rerr)
	}
	return created[0], nil
}
