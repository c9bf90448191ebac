package main

import "fmt"

// cliWords are the words of `vscard-bridge open`, the command a person meets when the
// portal hands an order to the Desktop App, per language (see lang). The words of codes
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
	},
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
