package handoff

// ReplaceCard is the symbolic name of the process that replaces a lost, stolen or broken
// card with a new one.
const ReplaceCard = "replace-virtual-smart-card"

// replaceCard is the desktop side of replace-virtual-smart-card. On this desktop a
// replacement is a new card exactly as get-virtual-smart-card makes one (the server's claim
// gives the same card set-up): what happens to the old card is the server's, which revokes
// it, and a Desktop App that holds it removes it when it learns of that. So the handler
// is getCard's, under the process's own name.
type replaceCard struct{ getCard }

// MakesNewCard reports whether the process named process makes a new card on this desktop,
// which the agent then records as its own.
func MakesNewCard(process string) bool {
	return process == GetVirtualSmartCard || process == ReplaceCard
}
