package handoff

import (
	"fmt"
	"strings"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/server/cardspec"
)

// LangFromEnv picks the language of the Desktop App's words from the POSIX locale
// variables, in their order of precedence (LC_ALL, LC_MESSAGES, LANG): the first one set
// decides, "de_DE.UTF-8" meaning German. A language without words, "C" and "POSIX" mean
// the default language.
func LangFromEnv(getenv func(string) string) string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		val := getenv(v)
		if val == "" {
			continue
		}
		base := strings.ToLower(val)
		if i := strings.IndexAny(base, "_.@-"); i >= 0 {
			base = base[:i]
		}
		for _, l := range Languages {
			if l == base {
				return l
			}
		}
		return Languages[0]
	}
	return Languages[0]
}

// serverWords are the words for the server's error codes (the schema's ErrorCode), as a
// person at the Desktop App reads them: the server's own message names order states
// ("An order that is CANCELLED cannot move to …") and is for the log only.
// TestServerWordsInEveryLanguage fails when a code of api.AllErrorCode lacks words.
var serverWords = map[string]map[api.ErrorCode]string{
	"en": {
		api.ErrorCodeUnauthenticated:       "The server no longer accepts this Desktop App's session. Start again from the portal.",
		api.ErrorCodeForbidden:             "The server does not allow this. Start again from the portal; if it happens again, contact your help desk.",
		api.ErrorCodeNotFound:              "The server does not know this order or card any more. Start again from the portal.",
		api.ErrorCodeInvalidInput:          "The server refused what the Desktop App sent. Update the Desktop App, then start again from the portal.",
		api.ErrorCodeIllegalState:          "This order can no longer be used: it was cancelled in the portal, finished, or it expired. Start again from the portal.",
		api.ErrorCodeUserNotActive:         "Your account may not use cards right now. Contact your help desk.",
		api.ErrorCodeTokenInvalid:          "This Desktop App link is not valid. Start again from the portal.",
		api.ErrorCodeTokenExpired:          "This Desktop App link has expired. Start again from the portal for a new one.",
		api.ErrorCodeTokenAlreadyUsed:      "This Desktop App link was used already. Start again from the portal for a new one.",
		api.ErrorCodePinPolicy:             "The PIN does not meet the rules for this card. Choose another PIN.",
		api.ErrorCodeScriptError:           "The server's card settings have an error. Contact your help desk.",
		api.ErrorCodeConflict:              "Something is in the way on the server, such as another order that is still running. Finish or cancel it in the portal, then start again.",
		api.ErrorCodeRateLimited:           "Too many attempts. Wait a moment, then try again.",
		api.ErrorCodeQueryTooComplex:       "The server refused the Desktop App's request. Update the Desktop App; if it happens again, contact your help desk.",
		api.ErrorCodeRequestTooLarge:       "The server refused the Desktop App's request as too large. Contact your help desk.",
		api.ErrorCodeIntrospectionDisabled: "The server refused the Desktop App's request. Contact your help desk.",
		api.ErrorCodeTimeout:               "The server took too long to answer. Try again in a moment.",
		api.ErrorCodeUnavailable:           "A service the server needs cannot be reached right now. Try again in a moment.",
		api.ErrorCodeReasonRequired:        "The server refused this step without a reason. Start again from the portal.",
		api.ErrorCodeInternal:              "Something went wrong on the server. Try again; if it happens again, contact your help desk.",
	},
	"de": {
		api.ErrorCodeUnauthenticated:       "Der Server nimmt die Sitzung dieser Desktop-App nicht mehr an. Beginnen Sie im Portal neu.",
		api.ErrorCodeForbidden:             "Der Server erlaubt das nicht. Beginnen Sie im Portal neu; passiert es wieder, wenden Sie sich an Ihren Helpdesk.",
		api.ErrorCodeNotFound:              "Der Server kennt diesen Auftrag oder diese Karte nicht mehr. Beginnen Sie im Portal neu.",
		api.ErrorCodeInvalidInput:          "Der Server hat abgelehnt, was die Desktop-App geschickt hat. Aktualisieren Sie die Desktop-App und beginnen Sie im Portal neu.",
		api.ErrorCodeIllegalState:          "Dieser Auftrag ist nicht mehr nutzbar: Er wurde im Portal abgebrochen, abgeschlossen oder ist abgelaufen. Beginnen Sie im Portal neu.",
		api.ErrorCodeUserNotActive:         "Ihr Konto darf gerade keine Karten nutzen. Wenden Sie sich an Ihren Helpdesk.",
		api.ErrorCodeTokenInvalid:          "Dieser Link für die Desktop-App ist ungültig. Beginnen Sie im Portal neu.",
		api.ErrorCodeTokenExpired:          "Dieser Link für die Desktop-App ist abgelaufen. Beginnen Sie im Portal neu, um einen neuen zu bekommen.",
		api.ErrorCodeTokenAlreadyUsed:      "Dieser Link für die Desktop-App wurde schon benutzt. Beginnen Sie im Portal neu, um einen neuen zu bekommen.",
		api.ErrorCodePinPolicy:             "Die PIN erfüllt die Regeln für diese Karte nicht. Wählen Sie eine andere PIN.",
		api.ErrorCodeScriptError:           "Die Karteneinstellungen des Servers haben einen Fehler. Wenden Sie sich an Ihren Helpdesk.",
		api.ErrorCodeConflict:              "Auf dem Server steht etwas im Weg, etwa ein anderer Auftrag, der noch läuft. Schließen Sie ihn im Portal ab oder brechen Sie ihn ab, dann beginnen Sie neu.",
		api.ErrorCodeRateLimited:           "Zu viele Versuche. Warten Sie einen Moment und versuchen Sie es dann noch einmal.",
		api.ErrorCodeQueryTooComplex:       "Der Server hat die Anfrage der Desktop-App abgelehnt. Aktualisieren Sie die Desktop-App; passiert es wieder, wenden Sie sich an Ihren Helpdesk.",
		api.ErrorCodeRequestTooLarge:       "Der Server hat die Anfrage der Desktop-App als zu groß abgelehnt. Wenden Sie sich an Ihren Helpdesk.",
		api.ErrorCodeIntrospectionDisabled: "Der Server hat die Anfrage der Desktop-App abgelehnt. Wenden Sie sich an Ihren Helpdesk.",
		api.ErrorCodeTimeout:               "Der Server hat zu lange nicht geantwortet. Versuchen Sie es gleich noch einmal.",
		api.ErrorCodeUnavailable:           "Ein Dienst, den der Server braucht, ist gerade nicht erreichbar. Versuchen Sie es gleich noch einmal.",
		api.ErrorCodeReasonRequired:        "Der Server hat diesen Schritt ohne Begründung abgelehnt. Beginnen Sie im Portal von vorn.",
		api.ErrorCodeInternal:              "Auf dem Server ist etwas schiefgegangen. Versuchen Sie es noch einmal; passiert es wieder, wenden Sie sich an Ihren Helpdesk.",
	},
}

// ServerWords returns the words for the server's error code c in lang, falling back to
// the default language, and to INTERNAL's words for a code this Desktop App does not know
// (a newer server).
func ServerWords(lang string, c api.ErrorCode) string {
	for _, l := range []string{lang, Languages[0]} {
		if w, ok := serverWords[l][c]; ok {
			return w
		}
	}
	return serverWords[Languages[0]][api.ErrorCodeInternal]
}

// policyWords are the PIN policy's rules and refusals, worded as on the PIN page
// (frontend/src/i18n/locales/*/pinpage.json): one rule per kind, the length in digits when
// only digits are allowed, the same words for a rule and for its refusal.
var policyWords = map[string]map[string]string{
	"en": {
		"digits": "digits", "characters": "characters",
		"lengthRange": "%d to %d %s", "lengthExact": "%d %s",
		"digitRequired": "At least one digit", "upperRequired": "At least one upper-case letter",
		"lowerRequired": "At least one lower-case letter", "specialRequired": "At least one special character",
		"noLetters": "No letters", "noUpper": "No upper-case letters", "noLower": "No lower-case letters",
		"noDigits": "No digits", "noSpecial": "No special characters",
		"repeatedRule":   "No %[2]s more than %[1]d times in a row",
		"sequentialRule": "No more than %d sequential %s (like %s)",
		"blockListRule":  "Not a common PIN such as %s",
		"retries":        "The card blocks after %d wrong PINs in a row.",
		// Refusals, by cardspec.Violation.Rule.
		"ascii":      "Use only letters A–Z and a–z, digits and the special characters of a US keyboard.",
		"min_length": "The PIN is too short: it needs at least %d %s.",
		"max_length": "The PIN is too long: it may have at most %d %s.",
		"letters":    "The PIN must not contain letters.",
		"upper_case": "Check the upper-case letters: the rules say whether they are needed or not allowed.",
		"lower_case": "Check the lower-case letters: the rules say whether they are needed or not allowed.",
		"special":    "Check the special characters: the rules say whether they are needed or not allowed.",
		"block_list": "This PIN is too common. Choose another one.",
		"repeated":   "The PIN repeats a character more than %d times in a row.",
		"sequential": "The PIN has more than %d sequential %s.",
		// digits as a refusal: the key "digits" is the kind's word above.
		"digits_problem": "Check the digits: the rules say whether they are needed or not allowed.",
	},
	"de": {
		"digits": "Ziffern", "characters": "Zeichen",
		"lengthRange": "%d bis %d %s", "lengthExact": "%d %s",
		"digitRequired": "Mindestens eine Ziffer", "upperRequired": "Mindestens einen Großbuchstaben",
		"lowerRequired": "Mindestens einen Kleinbuchstaben", "specialRequired": "Mindestens ein Sonderzeichen",
		"noLetters": "Keine Buchstaben", "noUpper": "Keine Großbuchstaben", "noLower": "Keine Kleinbuchstaben",
		"noDigits": "Keine Ziffern", "noSpecial": "Keine Sonderzeichen",
		"repeatedRule":   "Keine %[2]s öfter als %[1]d-mal hintereinander",
		"sequentialRule": "Nicht mehr als %d aufeinanderfolgende %s (wie %s)",
		"blockListRule":  "Keine häufige PIN wie %s",
		"retries":        "Die Karte sperrt nach %d falschen PINs hintereinander.",
		"ascii":          "Verwenden Sie nur Buchstaben A–Z und a–z, Ziffern und die Sonderzeichen einer US-Tastatur.",
		"min_length":     "Die PIN ist zu kurz: Sie braucht mindestens %d %s.",
		"max_length":     "Die PIN ist zu lang: Sie darf höchstens %d %s haben.",
		"letters":        "Die PIN darf keine Buchstaben enthalten.",
		"upper_case":     "Prüfen Sie die Großbuchstaben: Die Regeln sagen, ob sie nötig oder verboten sind.",
		"lower_case":     "Prüfen Sie die Kleinbuchstaben: Die Regeln sagen, ob sie nötig oder verboten sind.",
		"special":        "Prüfen Sie die Sonderzeichen: Die Regeln sagen, ob sie nötig oder verboten sind.",
		"block_list":     "Diese PIN ist zu häufig. Wählen Sie eine andere.",
		"repeated":       "Die PIN wiederholt ein Zeichen öfter als %d-mal hintereinander.",
		"sequential":     "Die PIN hat mehr als %d aufeinanderfolgende %s.",
		"digits_problem": "Prüfen Sie die Ziffern: Die Regeln sagen, ob sie nötig oder verboten sind.",
	},
}

func pw(lang, key string) string {
	if w, ok := policyWords[lang][key]; ok {
		return w
	}
	return policyWords[Languages[0]][key]
}

// digitsOnly reports whether p allows nothing but digits, so its rules say "digits".
func digitsOnly(p cardspec.PINPolicy) bool {
	return p.Upper == cardspec.Disallowed && p.Lower == cardspec.Disallowed && p.Special == cardspec.Disallowed
}

func kindWord(lang string, p cardspec.PINPolicy) string {
	if digitsOnly(p) {
		return pw(lang, "digits")
	}
	return pw(lang, "characters")
}

// PolicyRulesIn describes the policy in lang, one rule per line, as the PIN page does:
// one line per kind of rule, "6 to 8 digits" for a digits-only policy, examples that the
// policy allows. The card's retry count is not a rule of the PIN: see RetryNote.
func PolicyRulesIn(lang string, p cardspec.PINPolicy) []string {
	k := kindWord(lang, p)
	var r []string
	if p.MinLength == p.MaxLength {
		r = append(r, fmt.Sprintf(pw(lang, "lengthExact"), p.MinLength, k))
	} else {
		r = append(r, fmt.Sprintf(pw(lang, "lengthRange"), p.MinLength, p.MaxLength, k))
	}
	only := digitsOnly(p)
	if !only {
		for _, c := range []struct {
			rule cardspec.Rule
			key  string
		}{{p.Digits, "digitRequired"}, {p.Upper, "upperRequired"}, {p.Lower, "lowerRequired"}, {p.Special, "specialRequired"}} {
			if c.rule == cardspec.Required {
				r = append(r, pw(lang, c.key))
			}
		}
		if p.Upper == cardspec.Disallowed && p.Lower == cardspec.Disallowed {
			r = append(r, pw(lang, "noLetters"))
		} else {
			if p.Upper == cardspec.Disallowed {
				r = append(r, pw(lang, "noUpper"))
			}
			if p.Lower == cardspec.Disallowed {
				r = append(r, pw(lang, "noLower"))
			}
		}
		if p.Digits == cardspec.Disallowed {
			r = append(r, pw(lang, "noDigits"))
		}
		if p.Special == cardspec.Disallowed {
			r = append(r, pw(lang, "noSpecial"))
		}
	}
	if p.MaxRepeated > 0 {
		r = append(r, fmt.Sprintf(pw(lang, "repeatedRule"), p.MaxRepeated, k))
	}
	if p.MaxSequential > 0 {
		example := "1234"
		if !only {
			example = "1234, abcd"
		}
		r = append(r, fmt.Sprintf(pw(lang, "sequentialRule"), p.MaxSequential, k, example))
	}
	if len(p.BlockList) > 0 {
		r = append(r, fmt.Sprintf(pw(lang, "blockListRule"), p.BlockList[0]))
	}
	return r
}

// RetryNote says after how many wrong PINs the card blocks, or "" when p does not say.
func RetryNote(lang string, p cardspec.PINPolicy) string {
	if p.RetryCount <= 0 {
		return ""
	}
	return fmt.Sprintf(pw(lang, "retries"), p.RetryCount)
}

// ProblemWords words a refused PIN in lang from its code (never from Message, which is
// English): a policy rule's with the policy's numbers, the Desktop App's own with Words.
func ProblemWords(lang string, pr Problem, p cardspec.PINPolicy) string {
	k := kindWord(lang, p)
	switch string(pr.Code) {
	case "min_length":
		return fmt.Sprintf(pw(lang, "min_length"), p.MinLength, k)
	case "max_length":
		return fmt.Sprintf(pw(lang, "max_length"), p.MaxLength, k)
	case "repeated":
		return fmt.Sprintf(pw(lang, "repeated"), p.MaxRepeated)
	case "sequential":
		return fmt.Sprintf(pw(lang, "sequential"), p.MaxSequential, k)
	case "digits":
		return pw(lang, "digits_problem")
	case "ascii", "letters", "upper_case", "lower_case", "special", "block_list":
		return pw(lang, string(pr.Code))
	case string(ProblemCurrentWrong):
		return fmt.Sprintf(Words(lang, pr.Code), pr.Tries)
	}
	if w := Words(lang, pr.Code); w != "" {
		return w
	}
	return pr.Message
}

// EventWords is what a person reads about a run that failed or was cancelled: the words
// of its code in lang, else of the server's code, else the words the agent sent.
func EventWords(lang string, ev Event) string {
	if ev.Code != "" {
		return Words(lang, ev.Code)
	}
	if ev.ServerCode != "" {
		return ServerWords(lang, api.ErrorCode(ev.ServerCode))
	}
	return ev.Error
}
