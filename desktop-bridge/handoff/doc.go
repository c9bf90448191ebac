// Package enroll is the Desktop App's half of "Get virtual smart card": it takes the
// portal's hand-off link and turns the order it names into a personalised virtual card on
// this desktop. It exists because the card, its keys and its PIN must come into being where
// the card will be used: the server never sees a private key or the PIN, and the browser
// never sees the card.
//
// # How a run goes
//
// The portal's "Open Desktop App" button opens vscard://enroll?server=…&order=…&token=…
// ([ParseLink]; the token is one-time and never logged, see [Link.String]). [Run] then
//
//  1. checks that the server is on the trust list ([TrustStore], kept in bridge.yaml by
//     [TrustFile]) or asks the person whether to trust it: a link from an unknown server
//     must not get a card made for it;
//  2. claims the order with the token, which gives a bridge session and the card setup
//     (serial, PIN policy, PUK, management key, certificates to make);
//  3. asks for a PIN ([Prompter], the PIN page of desktop-bridge/pinpage) until it meets
//     the order's policy, checked here with [cardspec.PINPolicy.Check] so the person is
//     told rule by rule; the PIN stays on the desktop;
//  4. creates the virtual card ([CardHost]) and personalises it with piv-go through PC/SC,
//     exactly as a hardware PIV token would be: PUK, PIN and retry count, management key,
//     one key pair per certificate generated on the card;
//  5. sends the public keys (as CSRs signed on the card) to the server, which issues the
//     certificates, stores them on the card and confirms the card is ready.
//
// The person then finishes the order in the portal.
//
// # When it ends early
//
// From the claim on, the order is this run's: whatever ends the run early ends the order too.
// A goroutine watches the order's subscription; if the order ends on the server (cancelled
// in the portal, expired), the run stops with [ErrCancelledByServer]. If the person cancels
// here or a step fails, the unfinished card is deleted and the server is told (cancel or
// fail, with a reason free of secrets). After the card is ready the order is followed until
// it completes; if it ends otherwise its certificates were revoked, and the card on the
// desktop is deleted too.
//
// Progress goes to Config.Notify as [Event] values, for the agent and the PIN page;
// [Describe] turns an error into a message for a person.
package handoff
