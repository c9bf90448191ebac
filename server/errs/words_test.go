package errs

import (
	"encoding/json"
	"os"
	"testing"
)

// TestEveryCodeHasWords: a person never reads a code, so every code the server can put
// into extensions.code needs words in every language of the SPA's errors catalogue
// (frontend/src/i18n/locales/<lang>/errors.json, key code.<CODE>). A new code fails here
// until it has them. (The Desktop App's words are checked by desktop-bridge/handoff's
// TestServerWordsInEveryLanguage and TestPINPageCatalogues.)
func TestEveryCodeHasWords(t *testing.T) {
	const dir = "../../frontend/src/i18n/locales/"
	langs, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(langs) < 2 {
		t.Fatalf("languages %v, want English and at least one more", langs)
	}
	for _, l := range langs {
		raw, err := os.ReadFile(dir + l.Name() + "/errors.json")
		if err != nil {
			t.Fatal(err)
		}
		var cat struct {
			Code map[string]string `json:"code"`
		}
		if err := json.Unmarshal(raw, &cat); err != nil {
			t.Fatal(err)
		}
		for _, c := range Codes() {
			if cat.Code[string(c)] == "" {
				t.Errorf("%s/errors.json: no words for code.%s", l.Name(), c)
			}
		}
	}
}
