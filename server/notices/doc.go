// Package notices finds the cards that are due for renewal, gives each an open task for its
// owner and tells the owner by e-mail at the days the option script lists.
//
// # The expiry check
//
// Check runs on a schedule (Run), once per cluster: every instance polls, and the one whose
// conditional UPDATE moves the job_leases row's next_run_at forward (next_run_at <= now, by
// the injected clock) runs it; the others see no row changed and wait. The same statement
// works on SQLite (one instance) and PostgreSQL (several).
//
// A run reads RENEWAL_WINDOW and NOTICE_DAYS from the option script (evaluated once for the
// sample user: they are the cluster's, not a person's) and then, in statements of its own:
//
//   - opens a RENEW_CARD task for each ACTIVE or LOCKED card whose valid_until lies within
//     the window and that has no task for that expiry. The index cards(state, valid_until)
//     makes this two range scans of the due cards, so a run costs a few rows at any size;
//     the unique index tasks(card_id, expires_at) makes two runs, or two instances, agree;
//   - closes open tasks whose card has a new expiry (RENEWED), is no longer ACTIVE or
//     LOCKED (CARD_ENDED), or whose expiry has passed (EXPIRED);
//   - where SMTP is configured, writes the notice each open task is due for: the smallest
//     of NOTICE_DAYS that is at least the days left, once per task and days (unique index),
//     so a notice missed while the server was down is sent late, once, and the ones before
//     it are not.
//
// # Sending
//
// notices is an outbox. SendDue claims a PENDING notice with one conditional UPDATE
// (attempts+1, next_attempt_at a lease ahead) before it talks to the SMTP server, and marks
// it SENT after. So a crash neither loses a notice nor sends one twice, except the one in
// flight between the SMTP server's acceptance and the mark: that one goes out again when
// its lease ends (at least once; its Message-ID is the same, so mail clients show it once).
// A refusal or an unreachable server moves next_attempt_at back by an exponential backoff;
// after MaxAttempts the notice is FAILED. No sending holds a database transaction, and a
// rate limiter keeps to the SMTP server's allowance.
//
// Without SMTP configured no notice is written: the open task on the start page is all.
package notices
