package handoff

// IssueCertificates is the symbolic name of the process that adds to a card the
// certificates the option script asks for and the card lacks (an administrator turned on
// encryption), without a new card.
const IssueCertificates = "issue-certificates-to-virtual-smart-card"

// newAddCertificates is the desktop side of issue-certificates-to-virtual-smart-card:
// renewal's work (renew.go) for slots the card lacks, so the keys are made in place:
// there is no key in the slot to keep working meanwhile.
func newAddCertificates() Handler { return &issueToCard{} }

// newRenewal is the desktop side of renew-virtual-smart-card: new keys made aside and
// swapped in once their certificates exist (renew.go).
func newRenewal() Handler { return &issueToCard{aside: true} }
