package main

import "fmt"

// cliWords are the words of the commands a person runs, per language (see lang): `open`,
// which a person meets when the portal hands an order to the Desktop App, then `pin
// change`, `pin unblock`, `cards` and `delete`. The words of codes
// (refusals, errors, PIN rules) are handoff's. TestCLIWordsInEveryLanguage fails when a
// key lacks words in a language.
var cliWords = map[string]map[string]string{
	"en": {
		"handing":        "Handing the portal's link from %s to the Desktop App",
		"pinPage":        "PIN page: %s",
		"openPINPage":    "Open the PIN page above in your browser.",
		"creating":       "The Desktop App is creating the card; `vscard-bridge cards` lists it when it is ready.",
		"refused":        "The PIN was refused:",
		"cardFor":        "Card for %s. Verification code: %s (the portal shows the same code)",
		"rules":          "Your PIN must have:",
		"currentPIN":     "Current PIN: ",
		"newPIN":         "New PIN: ",
		"pin":            "PIN: ",
		"claimed":        "Connected to the server for %s. Verification code: %s",
		"failed":         "Failed: %s",
		"cancelled":      "Cancelled: %s",
		"ready":          "Card %s is ready (for %s, valid until %s).",
		"certificate":    "  %s certificate for %s, valid until %s",
		"goBack":         "Go back to the portal and click Next to finish.",
		"pin_accepted":   "PIN meets the rules",
		"card_created":   "Virtual smart card created",
		"card_secured":   "Card secured with your PIN",
		"keys_created":   "Keys made on the card",
		"certs_issued":   "Certificates issued",
		"certs_stored":   "Certificates stored on the card",
		"pin_changed":    "PIN changed on the card",
		"pin_verified":   "The card took your PIN",
		"AUTHENTICATION": "Authentication",
		"SIGNATURE":      "Signature",
		"ENCRYPTION":     "Encryption",

		// Every command: a card named on the command line, the agent that hosts the cards.
		"notSerial": "%q is not a card serial: vscard-bridge cards lists them.",
		"noAgent":   "The Desktop App is not running here: start it with vscard-bridge serve, then try again.",
		// pin change
		"changingPIN": "Changing the PIN of card %d in reader %q.",
		"newPINAgain": "New PIN again: ",
		"notToldNow":  "The portal could not be told now:",
		"toldLater":   "The portal will be told when the server can be reached.",
		"pinChanged":  "The PIN of card %d is changed.",
		// pin unblock --offline
		"unblocking":   "Unblocking the PIN of card %d in reader %q.",
		"unblockWhere": "In the portal, on a device that reaches it, open Actions for card %d on the Cards page,",
		"unblockWhat":  "choose Unblock PIN offline and type this challenge:",
		"challenge":    "Challenge: %s",
		"unblockThen":  "Then type the response the portal shows, and a new PIN.",
		"response":     "Response: ",
		"pinUnblocked": "The PIN of card %d is unblocked: use the new PIN.",
		// cards
		"noCards":         "No virtual cards.",
		"cardsHeader":     "SERIAL\tSTATE\tREADER\tUSER\tSERVER",
		"notInserted":     "(not inserted)",
		"cardCertificate": "  slot %s\t%s\t%s\texpires %s\t",
		"state_ready":     "ready",
		"state_enrolling": "enrolling",
		"state_unknown":   "unknown",
		// delete
		"notInReader":     "Card %d is not in a reader: start the Desktop App (vscard-bridge serve), which puts it in one, so that the card can confirm the delete to %s.",
		"deleting":        "Deleting card %d: it stops working everywhere and its certificates are revoked.",
		"pinOfCard":       "PIN of card %s: ",
		"noChallenge":     "%s gave no challenge for the delete, so nothing was removed. Try again later.",
		"notDeleted":      "%s did not delete the card, so nothing was removed here. Try again later.",
		"deletedOnServer": "%s: card %d is deleted and its certificates are revoked.",
		"noLongerInUse":   "%s no longer has card %d in use; removing it here.",
		"deleted":         "Deleted card %d.",
	},
	"de": {
		"handing":        "Der Link des Portals von %s geht an die Desktop-App",
		"pinPage":        "PIN-Seite: %s",
		"openPINPage":    "Öffnen Sie die PIN-Seite oben in Ihrem Browser.",
		"creating":       "Die Desktop-App legt die Karte an; `vscard-bridge cards` zeigt sie, sobald sie bereit ist.",
		"refused":        "Die PIN wurde abgelehnt:",
		"cardFor":        "Karte für %s. Prüfcode: %s (das Portal zeigt denselben Code)",
		"rules":          "Ihre PIN braucht:",
		"currentPIN":     "Jetzige PIN: ",
		"newPIN":         "Neue PIN: ",
		"pin":            "PIN: ",
		"claimed":        "Mit dem Server verbunden für %s. Prüfcode: %s",
		"failed":         "Fehlgeschlagen: %s",
		"cancelled":      "Abgebrochen: %s",
		"ready":          "Karte %s ist bereit (für %s, gültig bis %s).",
		"certificate":    "  Zertifikat „%s“ für %s, gültig bis %s",
		"goBack":         "Gehen Sie zurück ins Portal und klicken Sie auf Weiter.",
		"pin_accepted":   "PIN erfüllt die Regeln",
		"card_created":   "Virtuelle Smartcard angelegt",
		"card_secured":   "Karte mit Ihrer PIN gesichert",
		"keys_created":   "Schlüssel auf der Karte erzeugt",
		"certs_issued":   "Zertifikate ausgestellt",
		"certs_stored":   "Zertifikate auf der Karte gespeichert",
		"pin_changed":    "PIN auf der Karte geändert",
		"pin_verified":   "Die Karte hat Ihre PIN angenommen",
		"AUTHENTICATION": "Anmeldung",
		"SIGNATURE":      "Signatur",
		"ENCRYPTION":     "Verschlüsselung",

		"notSerial":       "%q ist keine Seriennummer einer Karte: vscard-bridge cards zeigt sie.",
		"noAgent":         "Die Desktop-App läuft hier nicht: Starten Sie sie mit vscard-bridge serve und versuchen Sie es noch einmal.",
		"changingPIN":     "Die PIN der Karte %d im Lesegerät %q wird geändert.",
		"newPINAgain":     "Neue PIN noch einmal: ",
		"notToldNow":      "Das Portal konnte jetzt nicht benachrichtigt werden:",
		"toldLater":       "Das Portal wird benachrichtigt, sobald der Server erreichbar ist.",
		"pinChanged":      "Die PIN der Karte %d ist geändert.",
		"unblocking":      "Die PIN der Karte %d im Lesegerät %q wird entsperrt.",
		"unblockWhere":    "Öffnen Sie im Portal, auf einem Gerät, das es erreicht, auf der Kartenseite „Aktionen für Karte %d“,",
		"unblockWhat":     "wählen Sie „PIN offline entsperren“ und geben Sie diese Challenge ein:",
		"challenge":       "Challenge: %s",
		"unblockThen":     "Geben Sie dann die Antwort ein, die das Portal zeigt, und eine neue PIN.",
		"response":        "Antwort: ",
		"pinUnblocked":    "Die PIN der Karte %d ist entsperrt: Nutzen Sie die neue PIN.",
		"noCards":         "Keine virtuellen Karten.",
		"cardsHeader":     "SERIENNUMMER\tZUSTAND\tLESEGERÄT\tBENUTZER\tSERVER",
		"notInserted":     "(nicht eingesteckt)",
		"cardCertificate": "  Slot %s\t%s\t%s\tläuft ab am %s\t",
		"state_ready":     "bereit",
		"state_enrolling": "wird angelegt",
		"state_unknown":   "unbekannt",
		"notInReader":     "Karte %d steckt in keinem Lesegerät: Starten Sie die Desktop-App (vscard-bridge serve), die sie in eines steckt, damit die Karte %s das Löschen bestätigen kann.",
		"deleting":        "Karte %d wird gelöscht: Sie funktioniert nirgends mehr, und ihre Zertifikate werden widerrufen.",
		"pinOfCard":       "PIN der Karte %s: ",
		"noChallenge":     "%s hat keine Challenge zum Löschen gegeben, daher wurde nichts entfernt. Versuchen Sie es später noch einmal.",
		"notDeleted":      "%s hat die Karte nicht gelöscht, daher wurde hier nichts entfernt. Versuchen Sie es später noch einmal.",
		"deletedOnServer": "%s: Karte %d ist gelöscht, und ihre Zertifikate sind widerrufen.",
		"noLongerInUse":   "%s nutzt Karte %d nicht mehr; sie wird hier entfernt.",
		"deleted":         "Karte %d gelöscht.",
	},
}

// wordsError is a command's refusal in a person's words (Error), with the fault behind it
// for the log (Unwrap): main prints handoff.DescribeIn, which prefers the words of a code
// in the cause, else these.
type wordsError struct {
	words string
	cause error
}

func (e *wordsError) Error() string { return e.words }
func (e *wordsError) Unwrap() error { return e.cause }

// refuse returns the words of key in lang with args as an error, with cause for the log.
func refuse(cause error, lang, key string, args ...any) error {
	return &wordsError{words: say(lang, key, args...), cause: cause}
}

// say returns the words of key in lang with args, English when lang lacks them, and ""
// for a key without words (a step this command does not name).
func say(lang, key string, args ...any) string {
	w, ok := cliWords[lang][key]
	if !ok {
		w = cliWords["en"][key]
	}
	if w == "" || len(args) == 0 {
		return w
	}
	return fmt.Sprintf(w, args...)
}
