// Package handoff is the Desktop App's side of the portal's processes: it takes the
// portal's hand-off link, claims the order it names, and carries out on this desktop the
// part of the order's process that must happen here. It exists because a card, its keys
// and its PIN must come into being (and change) where the card is used: the server never
// sees a private key or the PIN, and the browser never sees the card.
//
// The package is named for the link, not for one process: server/enroll is the
// server's engine, and two packages named enroll needed an alias wherever both met.
//
// # How a run goes
//
// The portal's "Open Desktop App" button opens
// vscard://enroll?server=…&order=…&token=…&process=<name> ([ParseLink]; the token is
// one-time and never logged, see [Link.String]; a link without process, from a server
// older than the process engine, means get-virtual-smart-card). [Run] then
//
//  1. looks up the process's [Handler] in the registry ([Processes]); a process this
//     Desktop App has no handler for is refused at once with [CodeUnknownProcess],
//     before any question and without claiming the order, which stays as it is for a
//     Desktop App that knows the process;
//  2. checks that the server is on the trust list ([TrustStore], kept in bridge.yaml by
//     [TrustFile]) or asks the person whether to trust it: a link from an unknown server
//     must not get anything done for it;
//  3. claims the order with the token, which gives a bridge session and the order's
//     setup; the claim names the order's process, and if it is not the link's the run
//     is refused with [CodeProcessMismatch] and the order failed: the server is the
//     authority on its order, and a link that disagrees was not made by it for this one;
//  4. hands the claimed order to the handler as a [Job]: the claim, the session, the
//     card host ([CardHost]) and PC/SC (piv-go), the PIN page ([Prompter], asked in a
//     [PINMode] through [Job.AskPIN], which checks every answer against the order's PIN
//     policy with [CheckPIN]), and progress reporting ([Job.Notify]).
//
// For get-virtual-smart-card the handler asks for a new PIN, creates the virtual card,
// personalises it exactly as a hardware PIV token would be (PUK, PIN and retry count,
// management key, one key pair per certificate generated on the card), sends the public
// keys (as CSRs signed on the card) to the server, stores the certificates it issues and
// confirms that the card is ready. The person then finishes the order in the portal.
//
// For change-pin (changepin.go) the handler finds the card's reader, asks in PINChange
// mode, and changes the PIN with piv-go; a wrong current PIN is asked again with the
// tries the card has left, and a blocked PIN ends the run with [CodePINBlocked]. It then
// reports the step done (bridgeNext), which completes the order. [ChangePIN] is the same
// work on the card for `vscard-bridge pin change`, without the portal.
//
// For renew-virtual-smart-card and issue-certificates-to-virtual-smart-card (renew.go,
// addcerts.go) the handler asks for the card's PIN once ([PINVerify]; the card checks it),
// makes the new keys, submits attested CSRs as for a new card, writes the certificates and
// confirms, which completes the order. A renewal makes its keys in retired slots and swaps
// them into place (CardHost.MoveKey) only once their certificates exist, keeping the old
// keys aside until the server confirmed, so that a run that ends early leaves the card
// working with what it had (its Undo swaps back).
//
// For replace-virtual-smart-card (replace.go) the handler is getCard's: on this desktop a
// replacement is a new card, and the old card is the server's to end. [SignChallenge] lets
// `vscard-bridge delete` prove to the server that this desktop holds a card, with the
// card's authentication key and the person's PIN, where no order and no session exist.
//
// # When it ends early
//
// From the claim on, the order is this run's: whatever ends the run early ends the order
// too, whatever the process. A goroutine watches the order's subscription; if the order
// ends on the server (cancelled in the portal, expired), the run stops with
// [ErrCancelledByServer]. If the person cancels here or a step fails, the handler's Undo
// takes back what it did on the desktop (a new card is deleted) and the server is told
// (cancel or fail, with a reason free of secrets). After the handler is done the order is
// followed, under Config.Tasks, until it completes; if it ends otherwise the server took
// back its part, and the handler's Undo takes back the desktop's. Run reports done only
// once the follower has learned the order's state, so that such an end is not missed.
//
// Progress goes to Config.Notify as [Event] values, for the agent and the PIN page.
// [Describe] turns an error into words for a person: the Desktop App's own refusals
// carry a [Code] with words in every language the app has ([Languages], [Words]).
//
// # Adding a process
//
// A process the server hands off (change-pin, reset-pin, unblock, renew, replace,
// delete, add-certificates) gets its desktop side in three steps, all in this package:
//
//  1. Write a type that implements [Handler] in a file of its own, as getcard.go does
//     for get-virtual-smart-card. Run gets everything through the [Job]: ask with
//     job.AskPIN in the mode the process needs ([PINChoose] for a new card, [PINChange]
//     for change-pin, [PINUnblock] after the PUK reset of unblock and reset-pin; the
//     page has the words for each), find a card the desktop has with
//     job.Cards.CardReader and open it with job.openPIV, call the server with
//     job.Session, report steps with job.Notify. Keep in the handler's fields what Undo
//     must take back; Run makes a new handler for every run.
//  2. Add one line to the map in [Processes]: the server's symbolic name and the
//     handler's constructor. Nothing else dispatches on the name.
//  3. Test it like TestRun: a real server (internal/portaltest), a private pcscd
//     (pcsctest), and a scripted Prompter; TestDispatch shows what the runner already
//     guarantees for every handler.
//
// The runner, not the handler, owns trust, claim, the process check, cancellation,
// telling the server, and the final event, so a new handler cannot get them wrong.
package handoff
