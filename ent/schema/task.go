package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/vscard/vscard/ent/privacy"
)

// Task is something a person has to do, found for them by the server: today a card that is
// due for renewal (RENEW_CARD), opened by the expiry check (server/notices) and closed when
// the card gets a new expiry or ends. Its owner sees it on the start page.
//
// Card, owner and expiry are plain columns rather than edges: a task is a record of what
// the check saw, and must not hold up deleting a card or a user.
type Task struct{ ent.Schema }

func (Task) Mixin() []ent.Mixin { return []ent.Mixin{withID("tsk", "tasks"), timeMixin{}} }

func (Task) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("RENEW_CARD").Immutable(),
		field.Enum("state").Values("OPEN", "CLOSED").Default("OPEN"),
		// Why a task closed: the card was renewed (a new expiry), ended (revoked, deleted,
		// inactive) or expired before anyone renewed it.
		field.Enum("close_reason").Values("RENEWED", "CARD_ENDED", "EXPIRED").Optional().Nillable(),
		field.Time("closed_at").Optional().Nillable(),
		field.String("owner_id").Immutable(),
		field.String("card_id").Immutable(),
		field.String("card_serial").Immutable(),
		// ExpiresAt is the card's valid_until the check saw, copied in SQL so that it equals
		// the card's column exactly: with card_id it makes the task unique, so a card gets
		// one task per expiry however many runs and instances see it.
		field.Time("expires_at").Immutable(),
	}
}

func (Task) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("card_id", "expires_at").Unique(),
		// A person's open tasks (the start page); the check's closing pass over open tasks.
		index.Fields("owner_id", "state"),
		index.Fields("state"),
	}
}

func (Task) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (Task) Policy() ent.Policy {
	return readOwnRows(
		func(f privacy.Filter, uid string) { f.(ownerIDFilter).WhereOwnerID(entql.StringEQ(uid)) },
		nil,
		false, true, // operators see a person's renewal tasks on the help desk
	)
}

// Notice is one e-mail notice of a task, at one of the option script's NOTICE_DAYS. The
// row is the outbox: the check writes it PENDING once per (task, days); a sender claims it
// (attempts+1, next_attempt_at a lease ahead) before it talks to the SMTP server and marks
// it SENT after. A crash between the SMTP server's acceptance and the mark sends that one
// notice again when the lease ends; none is lost. A notice whose task closed before it went
// out is DROPPED.
type Notice struct{ ent.Schema }

func (Notice) Mixin() []ent.Mixin { return []ent.Mixin{withID("ntc", "notices"), timeMixin{}} }

func (Notice) Fields() []ent.Field {
	return []ent.Field{
		field.String("task_id").Immutable(),
		field.Int("days").Immutable(),
		field.Enum("state").Values("PENDING", "SENT", "FAILED", "DROPPED").Default("PENDING"),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at"),
		field.Time("sent_at").Optional().Nillable(),
		// LastError is the SMTP server's last refusal, for administrators' logs.
		field.String("last_error").Default(""),
	}
}

func (Notice) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("task_id", "days").Unique(),
		index.Fields("state", "next_attempt_at"),
	}
}

func (Notice) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (Notice) Policy() ent.Policy { return systemOnly() }

// JobLease makes a scheduled job run once per cluster: an instance runs the job only when
// it moves next_run_at forward in one conditional UPDATE (next_run_at <= now), which one
// instance wins. It works the same on SQLite and PostgreSQL and reads the injected clock.
type JobLease struct{ ent.Schema }

func (JobLease) Mixin() []ent.Mixin { return []ent.Mixin{withID("job", "job_leases")} }

func (JobLease) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique().Immutable().NotEmpty(),
		field.Time("next_run_at"),
		// Holder is the instance that ran the job last, for logs.
		field.String("holder").Default(""),
	}
}

func (JobLease) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

func (JobLease) Policy() ent.Policy { return systemOnly() }
