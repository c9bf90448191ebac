// Package agent is the desktop bridge's background process (`vscard-bridge serve`).
//
// It hosts the user's virtual cards: at start it opens every card in the card
// directory and inserts each into a vpcd reader slot of pcscd, so PC/SC programs
// (browsers, ssh, OpenSC) can use them while the agent runs. It runs enrolments handed
// over by `vscard-bridge open`, one PIN page each, and removes cards on request.
//
// # Control endpoint
//
// The agent listens on a Unix socket, by default $XDG_RUNTIME_DIR/vscard/bridge.sock
// (DefaultSocket). The directory is created 0700 and the socket 0600, and the agent
// also checks the peer's user id (SO_PEERCRED) on every connection, so only the same
// user reaches it; no token is needed. The protocol is HTTP/1.1 with JSON bodies:
//
//	GET    /v1/status                   {"version", "cards", "slots"}
//	GET    /v1/cards                    [CardInfo]
//	DELETE /v1/cards/{serial}           204; detaches and deletes the card
//	POST   /v1/enrolments               EnrolRequest -> stream of Message (NDJSON)
//	POST   /v1/enrolments/{id}/pin      {"pin", "current"} -> 204 (ClientPIN enrolments;
//	                                    current only when the prompt's mode is "change")
//	POST   /v1/enrolments/{id}/cancel   204
//	POST   /v1/cards/{serial}/pin-changes PINChangeReport -> {"sent"}: a `pin change`
//	                                    result for the card's server, now or queued
//
// An enrolment outlives the request that started it: closing the stream does not stop
// it, except while a ClientPIN enrolment waits for its PIN (nobody could answer).
// Client is the Go client of this endpoint.
//
// # Files
//
// Under the data directory ($XDG_DATA_HOME/vscard): cards/ holds the vcard card files,
// cards.key the key that seals their secrets (0600), and enrolled/<serial>.json what
// the agent knows about each card (server, order, state, certificates). A card whose
// record still says "enrolling" when the agent starts was interrupted; it is deleted
// (the server expires the order and revokes what it issued). pending/<serial>.json holds
// PIN change results not yet sent; removed/<serial>.json what is kept of a card that left
// the desktop (its record, when and why), for forensics, while its card file is deleted.
//
// # Following the cards
//
// Outside an order the agent proves each card to its server with the card's management
// key (server/cardproof; the card computes the answer in process, vcard.Card.Prove),
// reports its PIN state and queued PIN changes (SyncCard), and learns the card's state.
// It does so at start, after each hand-off (Kick), every Config.SyncInterval, as soon as a
// card's PIN counters change (watchPINs), and it keeps a cardUpdated subscription per card
// (follow), reconnecting with bounded backoff. A card the server says must be removed, or
// does not know, leaves its reader and the disk (retire).
package agent
