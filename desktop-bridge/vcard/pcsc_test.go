package vcard_test

import (
	"path/filepath"
	"testing"

	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// newCard creates a card on disk and returns it with its directory and key
// store.
func newCard(t testing.TB, serial uint32) (*vcard.Card, string, vcard.KeyStore) {
	t.Helper()
	dir := t.TempDir()
	ks, err := vcard.LoadMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	cards := filepath.Join(dir, "cards")
	c, err := vcard.Create(cards, vcard.Options{Serial: serial, KeyStore: ks})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, cards, ks
}

func TestPIVGoBasics(t *testing.T) {
	env := pcsctest.Start(t, 2)
	c, _, _ := newCard(t, 5551234)
	env.Insert(t, 0, c)
	yk := env.OpenPIV(t, 0)

	if v := yk.Version(); v.Major != 5 || v.Minor != 7 {
		t.Errorf("version %+v", v)
	}
	serial, err := yk.Serial()
	if err != nil || serial != 5551234 {
		t.Errorf("serial %d, %v", serial, err)
	}
	n, err := yk.Retries()
	if err != nil || n != 3 {
		t.Errorf("retries %d, %v", n, err)
	}
}
