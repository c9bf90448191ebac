// Package enroll runs vscard's self-service processes — "Get virtual smart card" and, as
// they come, the card processes (change PIN, reset PIN, lock, unlock, renew, replace,
// delete, add certificates) — as orders that move through states: the registry of
// processes, the one transition that moves every order, the hand-off to the Desktop App,
// issuing through the CA, and clean-up.
//
// # Processes
//
// A process is a Definition (process.go); the built-in ones are listed in builtin()
// (processes.go). A Definition declares:
//
//   - Name, the symbolic name stored on each order and named in the hand-off link
//     (vscard://enroll?server=…&order=…&token=…&process=<name>) and in the Desktop App's
//     claim, so that the Desktop App dispatches to its handler for the process;
//   - DisplayName and Description as message keys ("process.<name>.name"): the portal
//     has the words, a person never reads ours;
//   - Starters: the person themself (BySelf), an administrator for someone (ByOperator),
//     the server on its own (BySystem, StartAsSystem);
//   - what it needs: UserStates of the person (default ACTIVE) and, for a card process,
//     CardStates of the card it acts on. A card process's order refers to that card
//     (Order.subject_card, distinct from the card edge of the card an order made);
//   - Forward, its table: each running state and the one state it moves to. The ent enum
//     order.state is the union of every process's states; a process uses a subset. Every
//     running order may also end: CANCELLED, FAILED or EXPIRED;
//   - Next, the steps the person makes, Bridge, the Desktop App's generic steps, each with
//     the writes it makes (Step.Do) inside the transition's transaction;
//   - whether it hands off to the Desktop App: the Next step marked Handoff (to
//     AWAITING_DESKTOP_APP) returns a one-time link, and Claim says what the Desktop App
//     gets when it claims the order (DESKTOP_APP_CONNECTED);
//   - Undo, what an ending undoes: revoke what the order issued, delete the card it made.
//   - for a step, the yes/no Choices the person makes with Next (nextStep's choices, read
//     in Do with choicesOf), and After, what runs once the step committed (telling the CA
//     of a lock or unlock; the sweep repairs what it missed);
//   - SelfMay, where the option script decides whether a person may start it on their own
//     (unlock-virtual-smart-card: self_unlock);
//   - NewCard, for a process whose claim makes a new card (get-virtual-smart-card, and the
//     card process replace-virtual-smart-card, which makes the card's successor): only it
//     may undo a new card; NeedsPUK, for one that unblocks with the card's PUK (reset-pin),
//     which is not offered on a card whose PUK is blocked (PUK_BLOCKED).
//
// "Get virtual smart card" is one entry:
//
//	STARTED -> AWAITING_DESKTOP_APP -> DESKTOP_APP_CONNECTED -> CREATING_CARD
//	        -> ISSUING_CERTIFICATES -> CARD_READY -> COMPLETED
//
// with its own bridge calls (ReportCardCreation, SubmitKeys, ConfirmCardReady) for the
// middle states; Next hands off from STARTED and activates the card from CARD_READY.
//
// "Change PIN" (change-pin) is a card process on an ACTIVE card, and the shortest one that
// hands off:
//
//	STARTED -> AWAITING_DESKTOP_APP -> DESKTOP_APP_CONNECTED -> COMPLETED
//
// Its Claim gives the card's serial and the PIN policy the option script gives at the
// claim, and no secret; its one Bridge step (bridgeNext in the API) completes the order
// once the card took the new PIN. The server never learns a PIN; a refusal reaches it as
// failOrder's reason.
//
// "Unblock PIN offline" (unblockoffline.go) is a card process without hand-off whose one
// step takes what the person typed, the card's challenge, so it is a method of its own
// (AnswerUnblockChallenge) rather than a Next step: STARTED -> COMPLETED, returning the
// response computed from the card's management key; SelfMay leaves it to the option
// script (unblock_pin_offline).
//
// "Renew" (renew-virtual-smart-card) and "Add certificates"
// (issue-certificates-to-virtual-smart-card) are card processes that issue (Issues, renew.go):
// get-virtual-smart-card's issuing steps on a card the person has,
//
//	STARTED -> AWAITING_DESKTOP_APP -> DESKTOP_APP_CONNECTED -> ISSUING_CERTIFICATES -> COMPLETED
//
// What they issue is Issuing.Select of the script's certificates at the start, kept as the
// order's options; SubmitKeys issues from the state before ISSUING_CERTIFICATES, whichever it
// is, and ConfirmCardReady moves on by the table, so it completes these orders. A renewal
// supersedes the certificates it replaces and moves the card's validity in that same
// transition, never earlier: an ending before it revokes only what the order issued.
//
// "Replace virtual smart card" (replace.go) shares get-virtual-smart-card's table, hand-off,
// claim and activation (newCardTable, newCardHandoff, newCardActivation) and adds what ends
// the old card: at the hand-off when the person says it was lost or stolen (keyCompromise),
// else together with the new card's activation (superseded). "Delete virtual smart card"
// (delete.go) is one server step; the Desktop App's CLI runs it with the card's signature
// instead of a portal session (cardauth.go). PurgeCard, an operator's removal of a card's
// record, is not a process: nothing is left to follow.
//
// # How to add a process
//
//  1. Write a func returning its *Definition next to getVirtualSmartCard in processes.go
//     and add it to builtin(). register checks the declaration when the engine starts
//     (and in every test): the table leads from STARTED to COMPLETED through running
//     states, every step is in the table, a hand-off comes with a Claim.
//  2. If it needs a state the enum lacks, add it to ent/schema/order.go and to running
//     (process.go), run make generate and make migration.
//  3. Give the portal words for its keys (frontend/src/lib/processes.ts) and a handler in
//     the Desktop App if it hands off. A Desktop App step with no call of its own uses
//     Engine.BridgeNext; one that needs checks of its own (as SubmitKeys) gets a method
//     here that ends in transition.
//  4. Test it as process_test.go tests its two test-only processes: start, Next, the
//     Desktop App's step, cancel and expiry, against the fake CA and a moved clock.
//
// Nothing else changes: Processes offers it (without a card for a process that makes
// something new, with processes(card:) for a card process), with a reason code when it is
// unavailable (NOT_PERMITTED, USER_NOT_ACTIVE, CARD_NOT_IN_REQUIRED_STATE, NOTHING_TO_ISSUE,
// ORDER_RUNNING);
// Start, Next, Cancel, the sweep's expiry and EndOrderOf run it. Who may start what is
// decided in one place (whyNot, start.go) for the offer and the refusal alike. A person has
// at most one order in progress, of any process.
//
// # Transitions
//
// Every transition goes through Engine.transition: it checks the move against the order's
// process table (Definition.CanMove), writes the order together with its audit event and
// the rows the move writes (a claim's card, issued certificates, a card's activation), is
// conditional on the order's version (so two racing requests cannot both win), and
// publishes an event after commit. On PostgreSQL a move whose writes are rows (move.writes,
// Claimed.Writes, Step.Writes) is one statement (statement.go: data-modifying CTEs hanging
// off the version-checked UPDATE, each written only if it matched), so one round trip and
// no BEGIN/COMMIT; a move with code of its own (Step.Do, move.then) and the endings run in
// a transaction, as every move does on SQLite. An ending undoes what the process declares;
// the bridge learns of it from the subscription or the next call, and deletes its card too.
// An order of a process this server no longer knows can still be cancelled and expired.
//
// Within a transaction the caller opened (store.InTx: a person's state change, whose card
// cascade and end of their order in progress commit together, Engine.SetUserState) a move
// joins it, and what follows a commit (the CA, subscribers, Config.Entered) waits for that
// commit and never runs if it rolls back (afterCommit). A start on PostgreSQL is one
// statement; the unique index order_user_id_running keeps one order in progress per person
// where two starts race.
//
// The CA is called outside database transactions: SQLite serialises writers, and the CA
// writes its own records. A crash between the CA and the identity store is repaired by the
// sweep, which revokes what the CA signed for orders that did not complete.
//
// Time comes from Config.Now, so tests move a clock instead of sleeping.
//
// # Cards outside orders
//
// The Desktop App reports on the cards it holds without an order (cardsync.go): it asks
// CardChallenge, the card answers with its management key, and SyncCard checks the proof
// (server/cardproof has the design), stores and audits the PIN state and the PIN changes
// made without the portal (as codes), and says whether the card must leave the desktop
// (leaves: INACTIVE). FollowCard does the same check for the cardUpdated subscription.
// Every change of a card — a card process's transition, a revoke, a cascade, a PIN state
// report — calls PublishCard once committed, so that the portal and the Desktop App
// following the card hear of it; a new process that changes a card outside transition
// must call it too.
//
// # Keys in a TPM
//
// The option script's KEY_PROTECTION decides per order whether the CSRs must prove that
// their keys live in the computer's TPM (tpm.go, server/tpmverify has the proof). The
// Desktop App asks TPMChallenge for a credential; the order keeps only its digest and
// expiry, and the first submission with evidence spends it, right or wrong, in a
// conditional update, so an answer counts once even when two submissions race. Under TPM
// a missing or wrong proof refuses the submission (INVALID_INPUT with extensions.reason);
// under TPM_PREFERRED missing evidence means software keys and an EK outside --tpm-roots
// means TPM, not TPM_ATTESTED. The card records its weakest key; each certificate carries
// its key's protection as a certificate policy.
package enroll
