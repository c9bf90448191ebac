package handoff

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/server/tpmverify"
)

// Code names a refusal of the Desktop App itself, or a problem with a PIN form, so that
// a person is shown words in their language (Words) and never an error chain.
type Code string

// The Desktop App's own error codes.
const (
	// CodeUnknownProcess: the link names a process this Desktop App has no handler
	// for (a newer server, or a forged link). The order is not claimed.
	CodeUnknownProcess Code = "UNKNOWN_PROCESS"
	// CodeProcessMismatch: the server says the claimed order runs another process
	// than the link named. The bridge trusts the server, refuses the link's, and
	// fails the order.
	CodeProcessMismatch Code = "PROCESS_MISMATCH"
	// CodeCancelled: the person cancelled in the Desktop App.
	CodeCancelled Code = "CANCELLED_IN_DESKTOP_APP"
	// CodeOrderEnded: the order ended on the server while the Desktop App worked on it.
	CodeOrderEnded Code = "ORDER_ENDED"
	// CodeSessionEnded: the server no longer accepts the Desktop App's session.
	CodeSessionEnded Code = "SESSION_ENDED"
	// CodeUntrusted: the link's server is not trusted, and the person did not trust it.
	CodeUntrusted Code = "SERVER_NOT_TRUSTED"
	// CodePINBlocked: the card's PIN is blocked (too many wrong PINs); only Reset PIN
	// in the portal opens it again.
	CodePINBlocked Code = "PIN_BLOCKED"
	// CodeCardNotHere: the card the order acts on is in no reader of this desktop.
	CodeCardNotHere Code = "CARD_NOT_HERE"
	// CodePUKBlocked: the card's PUK is blocked, so its PIN cannot be reset: the card
	// must be replaced. The server is told.
	CodePUKBlocked Code = "PUK_BLOCKED"
	// CodePUKRefused: the card took none of the server's PUKs; it was left as it was
	// while it still has PUK tries.
	CodePUKRefused Code = "PUK_REFUSED"
	// CodeUnblockResponseWrong: the card refused the offline unblock response (and used
	// its challenge up); CodeUnblockNoChallenge: the card has no challenge to answer;
	// CodeUnblockUsedUp: the card took too many wrong responses and gives no more
	// challenges. See OfflineUnblock.
	CodeUnblockResponseWrong Code = "UNBLOCK_RESPONSE_WRONG"
	CodeUnblockNoChallenge   Code = "UNBLOCK_NO_CHALLENGE"
	CodeUnblockUsedUp        Code = "UNBLOCK_USED_UP"
	// ProblemResponseMistyped: the response as typed has a typing mistake (its check
	// symbol does not match) or is not 12 symbols; the card was not asked.
	ProblemResponseMistyped Code = "unblock_response_mistyped"
	// CodeNoFreeReader: every virtual reader of this desktop holds a card, so a new
	// card has nowhere to go. Told before the PIN is asked.
	CodeNoFreeReader Code = "NO_FREE_READER"
	// CodeTPMUnavailable: the Desktop App was told to keep cards in the TPM
	// (--tpm) but this computer has no usable TPM 2.0 (no /dev/tpmrm0, or not
	// a TPM 2.0); CodeTPMPermission: the TPM is there but this user may not
	// use it (on Linux: not in the group tss).
	CodeTPMUnavailable Code = "TPM_UNAVAILABLE"
	CodeTPMPermission  Code = "TPM_PERMISSION"
	// CodeTPMKeysLost: the TPM answers but is not the one the cards' keys were
	// made in (it was cleared, or the computer's board or TPM replaced): those
	// keys are gone for good, and each TPM card of this computer must be replaced.
	CodeTPMKeysLost Code = "TPM_KEYS_LOST"
	// CodeCardRevoked: the server says the card is out of service; it left this desktop.
	CodeCardRevoked Code = "CARD_OUT_OF_SERVICE"
	// CodeRenewalInterrupted: the Desktop App stopped in the middle of a renewal (killed,
	// the computer switched off), and the agent that started next reported the card's
	// renewal cut short: the server failed the order with it (server/enroll
	// ReasonRenewalInterrupted), revoked what it issued, and the agent put the old keys
	// back. No run ends with it.
	CodeRenewalInterrupted Code = "RENEWAL_INTERRUPTED"
)

// The server's reasons for refusing TPM evidence (server/tpmverify.Reason), which come
// as extensions.reason of an INVALID_INPUT: Describe gives them words.
const (
	CodeTPMEvidenceMissing Code = Code(tpmverify.EvidenceMissing)
	CodeTPMEvidenceInvalid Code = Code(tpmverify.EvidenceInvalid)
	CodeTPMRootUnknown     Code = Code(tpmverify.RootUnknown)
	CodeTPMChallengeFailed Code = Code(tpmverify.ChallengeFailed)
	CodeTPMKeyMismatch     Code = Code(tpmverify.KeyMismatch)
	CodeTPMKeyNotFixed     Code = Code(tpmverify.KeyNotFixed)
)

// Codes of a refused PIN form, besides the policy's rules (cardspec.Violation.Rule).
const (
	ProblemMismatch       Code = "pin_mismatch"        // the new PIN and its confirmation differ
	ProblemCurrentMissing Code = "current_pin_missing" // change mode without the current PIN
	ProblemSameAsCurrent  Code = "pin_unchanged"       // change mode: the new PIN is the current one
	// The card refused the current PIN: the words take the tries left (%d), and the
	// last try has words of its own that say the card blocks after it.
	ProblemCurrentWrong     Code = "current_pin_wrong"
	ProblemCurrentWrongLast Code = "current_pin_wrong_last_try"
)

// Languages are the languages the Desktop App has words in, the first the default.
// LangFromEnv picks one from the locale environment (LC_ALL, LC_MESSAGES, LANG).
var Languages = []string{"en", "de"}

// words holds, per language, the words for each Code. TestWordsInEveryLanguage fails
// when a code lacks words in a language.
var words = map[string]map[Code]string{
	"en": {
		CodeUnknownProcess:  "This Desktop App cannot do what the portal asked for. Update the Desktop App, then start again from the portal.",
		CodeProcessMismatch: "The portal's link does not match the order on the server, so nothing was done. Start again from the portal.",
		CodeCancelled:       "Cancelled in the Desktop App. Nothing was changed on this computer; you can start again from the portal.",
		CodeOrderEnded:      "The order was cancelled in the portal, or it expired. Nothing was changed on this computer.",
		CodeSessionEnded:    "The order is over on the server: it was cancelled in the portal, or it expired.",
		CodeUntrusted:       "This server is not on your list of trusted servers. Trust it on the PIN page, or run vscard-bridge open --trust.",
		CodePUKBlocked:      "This card's PIN cannot be reset: its unblocking code is blocked too. Ask for a new card in the portal.",
		CodePUKRefused:      "The card did not take the server's unblocking code, so nothing was changed. Contact your help desk.",
		CodeNoFreeReader: "This computer has no room for another virtual smart card. Revoke a card you no longer use on the Cards page " +
			"of the portal (it then leaves this computer), or ask your help desk for more virtual readers, then start again.",
		CodeTPMUnavailable: "This computer has no TPM 2.0 the Desktop App can use, so it cannot keep a card's keys in it. " +
			"Turn the TPM on in the firmware settings (it may be called fTPM or PTT), or ask your help desk.",
		CodeTPMKeysLost: "This computer's TPM was cleared or replaced, so the keys of the virtual smart cards kept in it are gone for good. " +
			"Replace each card in the portal (Cards, Replace card), or ask your help desk to do it.",
		CodeTPMPermission: "You may not use this computer's TPM yet. Ask an administrator to add you to the group tss " +
			"(sudo usermod -aG tss $USER), then log out and in again.",
		CodeCardRevoked: "This card is no longer in service (it was revoked or deleted in the portal), so it was removed from this computer.",
		CodeRenewalInterrupted: "The Desktop App stopped in the middle of renewing the card, so the renewal was ended. " +
			"The card works with its previous certificates; you can renew it again from the portal.",
		ProblemMismatch:       "The two new PINs are not the same. Type the new PIN twice.",
		ProblemCurrentMissing: "Type your current PIN.",
		ProblemSameAsCurrent:  "The new PIN is the same as the current one. Choose another PIN.",
		CodePINBlocked:        "The card's PIN is blocked: it was typed wrong too often. Use Reset PIN on the Cards page of the portal to choose a new one.",
		CodeCardNotHere:       "The card is not on this computer. Open the link on the computer that has the card.",
		ProblemCurrentWrong:   "The current PIN is wrong. The card allows %d more tries.",
		CodeUnblockResponseWrong: "The card did not accept the response. Each challenge works once: run the unblock again " +
			"for a new challenge and type it in the portal.",
		CodeUnblockNoChallenge: "The card has no challenge waiting for this response. Run the unblock again for a new challenge.",
		CodeUnblockUsedUp: "The card took too many wrong responses and cannot be unblocked offline any more. " +
			"Use Reset PIN on the Cards page of the portal, from a computer that reaches the server.",
		ProblemResponseMistyped: "The response is mistyped: it has 12 letters and digits, in groups of four, as the portal shows it. Type it again.",
		CodeTPMEvidenceMissing: "Your organisation requires the card's keys to be in this computer's TPM, and this Desktop App " +
			"cannot use the TPM. Install the tpm2 support of your system and join the group that may use /dev/tpmrm0 " +
			"(on Debian and Ubuntu: sudo usermod -aG tss $USER, then log in again), then start again from the portal.",
		CodeTPMEvidenceInvalid: "The server could not check the proof that the keys are in this computer's TPM. Start again from the portal; " +
			"if it happens again, contact your help desk.",
		CodeTPMRootUnknown: "The server does not know the maker of this computer's TPM, and your organisation requires a TPM it knows. " +
			"Contact your help desk.",
		CodeTPMChallengeFailed: "The TPM's proof came too late or was used already. Start again from the portal.",
		CodeTPMKeyMismatch:     "The TPM vouched for another key than the card's. Start again from the portal; if it happens again, contact your help desk.",
		CodeTPMKeyNotFixed:     "The card's keys are not locked into this computer's TPM, as your organisation requires. Contact your help desk.",
		ProblemCurrentWrongLast: "The current PIN is wrong. One try is left: if the next current PIN is wrong too, the card blocks, " +
			"and only Reset PIN in the portal opens it again.",
	},
	"de": {
		CodeUnknownProcess:  "Diese Desktop-App kann nicht, was das Portal verlangt. Aktualisieren Sie die Desktop-App und beginnen Sie im Portal neu.",
		CodeProcessMismatch: "Der Link des Portals passt nicht zum Auftrag auf dem Server, daher wurde nichts getan. Beginnen Sie im Portal neu.",
		CodeCancelled:       "In der Desktop-App abgebrochen. Auf diesem Computer wurde nichts geändert; Sie können im Portal neu beginnen.",
		CodeOrderEnded:      "Der Auftrag wurde im Portal abgebrochen oder ist abgelaufen. Auf diesem Computer wurde nichts geändert.",
		CodeSessionEnded:    "Der Auftrag ist auf dem Server beendet: Er wurde im Portal abgebrochen oder ist abgelaufen.",
		CodeUntrusted:       "Dieser Server steht nicht auf Ihrer Liste vertrauenswürdiger Server. Vertrauen Sie ihm auf der PIN-Seite oder mit vscard-bridge open --trust.",
		CodePUKBlocked:      "Die PIN dieser Karte kann nicht zurückgesetzt werden: Auch ihr Entsperrcode ist gesperrt. Fordern Sie im Portal eine neue Karte an.",
		CodePUKRefused:      "Die Karte hat den Entsperrcode des Servers nicht angenommen; nichts wurde geändert. Wenden Sie sich an Ihren Helpdesk.",
		CodeNoFreeReader: "Auf diesem Computer ist kein Platz für eine weitere virtuelle Smartcard. Widerrufen Sie auf der Kartenseite des Portals " +
			"eine Karte, die Sie nicht mehr nutzen (sie verlässt dann diesen Computer), oder bitten Sie Ihren Helpdesk um mehr virtuelle Lesegeräte, und beginnen Sie neu.",
		CodeTPMUnavailable: "Dieser Computer hat kein TPM 2.0, das die Desktop-App nutzen kann, daher kann sie die Schlüssel einer Karte nicht darin aufbewahren. " +
			"Schalten Sie das TPM in den Firmware-Einstellungen ein (es heißt dort vielleicht fTPM oder PTT), oder wenden Sie sich an Ihren Helpdesk.",
		CodeTPMEvidenceMissing: "Ihre Organisation verlangt, dass die Schlüssel der Karte im TPM dieses Computers liegen, und diese Desktop-App " +
			"kann das TPM nicht nutzen. Installieren Sie die TPM-2.0-Unterstützung Ihres Systems und treten Sie der Gruppe bei, die /dev/tpmrm0 nutzen darf " +
			"(unter Debian und Ubuntu: sudo usermod -aG tss $USER, danach neu anmelden), und beginnen Sie dann im Portal neu.",
		CodeTPMEvidenceInvalid: "Der Server konnte den Nachweis, dass die Schlüssel im TPM dieses Computers liegen, nicht prüfen. Beginnen Sie im Portal neu; " +
			"wenn es wieder geschieht, wenden Sie sich an Ihren Helpdesk.",
		CodeTPMRootUnknown: "Der Server kennt den Hersteller des TPM dieses Computers nicht, und Ihre Organisation verlangt ein bekanntes TPM. " +
			"Wenden Sie sich an Ihren Helpdesk.",
		CodeTPMChallengeFailed: "Der Nachweis des TPM kam zu spät oder wurde schon verwendet. Beginnen Sie im Portal neu.",
		CodeTPMKeyMismatch:     "Das TPM bürgte für einen anderen Schlüssel als den der Karte. Beginnen Sie im Portal neu; wenn es wieder geschieht, wenden Sie sich an Ihren Helpdesk.",
		CodeTPMKeyNotFixed:     "Die Schlüssel der Karte sind nicht fest an das TPM dieses Computers gebunden, wie Ihre Organisation es verlangt. Wenden Sie sich an Ihren Helpdesk.",
		CodeTPMKeysLost: "Das TPM dieses Computers wurde zurückgesetzt oder ersetzt, daher sind die Schlüssel der virtuellen Smartcards darin endgültig verloren. " +
			"Ersetzen Sie jede Karte im Portal (Karten, Karte ersetzen), oder bitten Sie Ihren Helpdesk darum.",
		CodeTPMPermission: "Sie dürfen das TPM dieses Computers noch nicht nutzen. Bitten Sie eine Administratorin oder einen Administrator, Sie in die Gruppe tss aufzunehmen " +
			"(sudo usermod -aG tss $USER), und melden Sie sich danach ab und wieder an.",
		CodeCardRevoked: "Diese Karte ist nicht mehr in Betrieb (sie wurde im Portal widerrufen oder gelöscht) und wurde daher von diesem Computer entfernt.",
		CodeRenewalInterrupted: "Die Desktop-App wurde mitten in der Erneuerung der Karte beendet, daher wurde die Erneuerung abgebrochen. " +
			"Die Karte arbeitet mit ihren bisherigen Zertifikaten; Sie können die Erneuerung im Portal neu starten.",
		ProblemMismatch:       "Die beiden neuen PINs sind nicht gleich. Geben Sie die neue PIN zweimal gleich ein.",
		ProblemCurrentMissing: "Geben Sie Ihre jetzige PIN ein.",
		ProblemSameAsCurrent:  "Die neue PIN ist die jetzige. Wählen Sie eine andere PIN.",
		CodePINBlocked:        "Die PIN der Karte ist gesperrt: Sie wurde zu oft falsch eingegeben. Wählen Sie mit „PIN zurücksetzen“ auf der Kartenseite des Portals eine neue.",
		CodeCardNotHere:       "Die Karte ist nicht auf diesem Computer. Öffnen Sie den Link auf dem Computer mit der Karte.",
		ProblemCurrentWrong:   "Die jetzige PIN ist falsch. Die Karte erlaubt noch %d Versuche.",
		CodeUnblockResponseWrong: "Die Karte hat die Antwort nicht angenommen. Jede Herausforderung gilt einmal: Starten Sie das Entsperren neu " +
			"für eine neue Herausforderung und geben Sie sie im Portal ein.",
		CodeUnblockNoChallenge: "Die Karte wartet auf keine Herausforderung zu dieser Antwort. Starten Sie das Entsperren neu für eine neue Herausforderung.",
		CodeUnblockUsedUp: "Die Karte hat zu viele falsche Antworten bekommen und lässt sich nicht mehr offline entsperren. " +
			"Nutzen Sie „PIN zurücksetzen“ auf der Kartenseite des Portals, von einem Computer, der den Server erreicht.",
		ProblemResponseMistyped: "Die Antwort ist falsch abgetippt: Sie hat 12 Buchstaben und Ziffern in Vierergruppen, wie das Portal sie zeigt. Geben Sie sie noch einmal ein.",
		ProblemCurrentWrongLast: "Die jetzige PIN ist falsch. Ein Versuch bleibt: Ist auch die nächste jetzige PIN falsch, sperrt die Karte, " +
			"und nur „PIN zurücksetzen“ im Portal öffnet sie wieder.",
	},
}

// allCodes lists every Code, for the test that each has words in every language.
var allCodes = []Code{CodeUnknownProcess, CodeProcessMismatch, CodeCancelled, CodeOrderEnded, CodeSessionEnded, CodeUntrusted, ProblemMismatch, ProblemCurrentMissing, ProblemSameAsCurrent,
	CodePINBlocked, CodeCardNotHere, ProblemCurrentWrong, ProblemCurrentWrongLast, CodePUKBlocked, CodePUKRefused,
	CodeUnblockResponseWrong, CodeUnblockNoChallenge, CodeUnblockUsedUp, ProblemResponseMistyped, CodeNoFreeReader, CodeCardRevoked,
	CodeTPMUnavailable, CodeTPMPermission, CodeTPMKeysLost, CodeRenewalInterrupted,
	CodeTPMEvidenceMissing, CodeTPMEvidenceInvalid, CodeTPMRootUnknown, CodeTPMChallengeFailed, CodeTPMKeyMismatch, CodeTPMKeyNotFixed}

// notFailureReasons are the Desktop App's codes that never reach the server as an order's
// failure reason (failureReason, sent by cleanUp after the claim), each with why. Every
// other code of allCodes can, and so can the server's refusals of TPM evidence: see
// FailureCodes. A new code counts as a failure reason, and so needs the portal's words,
// until it is listed here.
var notFailureReasons = map[Code]string{
	CodeUnknownProcess:       "refused before the claim (run.run): the order stays as it is",
	CodeUntrusted:            "refused before the claim (checkTrust)",
	CodeCancelled:            "cleanUp cancels the order (CancelOrder) instead of failing it",
	CodeOrderEnded:           "the server ended the order itself; cleanUp tells it nothing",
	CodeCardRevoked:          "only the command line says it (pin change); never an Error",
	CodeTPMUnavailable:       "the agent refuses to start (agent.New, openTPM), before any order is claimed",
	CodeTPMPermission:        "the agent refuses to start (agent.New, openTPM), before any order is claimed",
	CodeTPMKeysLost:          "the agent refuses to start (agent.New, openTPM), before any order is claimed",
	CodeUnblockResponseWrong: "offline unblock: vscard-bridge pin unblock talks to the card only",
	CodeUnblockNoChallenge:   "offline unblock: vscard-bridge pin unblock talks to the card only",
	CodeUnblockUsedUp:        "offline unblock: vscard-bridge pin unblock talks to the card only",
	ProblemResponseMistyped:  "offline unblock: vscard-bridge pin unblock talks to the card only",
	ProblemMismatch:          "a refused PIN form (Problem): the person is asked again",
	ProblemCurrentMissing:    "a refused PIN form (Problem): the person is asked again",
	ProblemSameAsCurrent:     "a refused PIN form (Problem): the person is asked again",
	ProblemCurrentWrong:      "a refused PIN form (Problem): the person is asked again",
	ProblemCurrentWrongLast:  "a refused PIN form (Problem): the person is asked again",
}

// FailureCodes lists, sorted, every code that can reach the server in an order's failure
// reason as ReasonPrefix+code: the Desktop App's own (allCodes but notFailureReasons; the
// server itself fails a renewal cut short with CodeRenewalInterrupted, on the agent's
// report) and the server's refusals of TPM evidence (tpmverify.Reasons), which WordsCodeOf
// passes on. The portal has words for each (frontend/src/wizard/orderState.ts
// failureWords): make generate writes this list to FailureCodesFile, and the portal's
// tests fail when one lacks words in a language.
func FailureCodes() []string {
	var out []string
	for _, c := range allCodes {
		if _, no := notFailureReasons[c]; !no {
			out = append(out, string(c))
		}
	}
	for _, r := range tpmverify.Reasons() {
		out = append(out, string(r))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// FailureCodesFile is where make generate writes FailureCodesJSON, from the repository's root.
const FailureCodesFile = "frontend/src/wizard/failureCodes.json"

// FailureCodesJSON is the content of FailureCodesFile.
func FailureCodesJSON() []byte {
	b, err := json.MarshalIndent(struct {
		Generated string   `json:"generated"`
		Codes     []string `json:"codes"`
	}{"by make generate from desktop-bridge/handoff FailureCodes; do not edit", FailureCodes()}, "", "  ")
	if err != nil {
		panic(err) // strings only
	}
	return append(b, '\n')
}

// Words returns the words for c in lang, falling back to the default language.
func Words(lang string, c Code) string {
	if w, ok := words[lang][c]; ok {
		return w
	}
	return words[Languages[0]][c]
}

// Error is a refusal with a code. Detail is for the log; a person sees Words.
type Error struct {
	Code   Code
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Detail
}

// Is makes errors.Is(err, &Error{Code: c}) match any refusal with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// CodeOf returns the code of the Desktop App's own refusal in err, or "".
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// WordsCodeOf returns the code a person gets words for in err: the Desktop App's own
// refusal (CodeOf), else the server's reason for refusing TPM evidence (TPM_EVIDENCE_MISSING,
// ...), which is more than its INVALID_INPUT says; "" for neither. The PIN page and the
// portal (through the order's failure reason) turn it into words.
func WordsCodeOf(err error) Code {
	if c := CodeOf(err); c != "" {
		return c
	}
	if r := Code(api.Reason(err)); strings.HasPrefix(string(r), "TPM_") {
		return r
	}
	return ""
}

// Describe returns a message about err for a person in the default language; see DescribeIn.
func Describe(err error) string { return DescribeIn(Languages[0], err) }

// DescribeIn returns a message about err for a person in lang: words for the Desktop
// App's own codes and for the server's codes (never the server's message, which names
// states), else the error text of a local fault (a flag, a file) that has no code.
func DescribeIn(lang string, err error) string {
	if err == nil {
		return ""
	}
	if c := WordsCodeOf(err); c != "" {
		return Words(lang, c)
	}
	if c := api.Code(err); c != "" {
		return ServerWords(lang, c)
	}
	return err.Error()
}
