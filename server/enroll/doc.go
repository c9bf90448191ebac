// Package enroll runs the self-service process "Get virtual smart card": the order state
// machine, the hand-off to the desktop bridge, issuing through the CA, and clean-up.
//
//	STARTED -> AWAITING_DESKTOP_APP -> DESKTOP_APP_CONNECTED -> CREATING_CARD
//	        -> ISSUING_CERTIFICATES -> CARD_READY -> COMPLETED
//
// and from every non-final state to CANCELLED, FAILED or EXPIRED. Every transition goes
// through Engine.transition: it checks the move against one table, runs in a database
// transaction together with its audit event, is conditional on the order's version (so two
// racing requests cannot both win), and publishes an event after commit. Cancel, failure
// and expiry revoke whatever the order had issued and delete the unfinished card; the
// bridge learns of it from the subscription or the next call, and deletes its card too.
//
// The CA is called outside database transactions: SQLite serialises writers, and the CA
// writes its own records. A crash between the CA and the identity store is repaired by the
// sweep, which revokes what the CA signed for orders that did not complete.
package enroll
