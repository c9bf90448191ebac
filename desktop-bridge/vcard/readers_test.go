package vcard_test

import (
	"testing"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/pcsctest"
)

// TestManyReaders holds a card in each of five readers at once: three vpcd
// reader.conf entries in one pcscd. Each reader must reach its own card; with
// every entry naming the same driver file, the driver's shared slot array
// sent the first entries' readers to the last entry's cards.
func TestManyReaders(t *testing.T) {
	const n = 5
	env := pcsctest.Start(t, n)
	for i := range n {
		c, _, _ := newCard(t, uint32(7000+i))
		env.Insert(t, i, c)
	}
	readers, err := piv.Cards()
	if err != nil {
		t.Fatal(err)
	}
	if len(readers) < n {
		t.Fatalf("pcscd reports %d readers, want at least %d: %q", len(readers), n, readers)
	}
	for i := range n {
		yk := env.OpenPIV(t, i)
		if serial, err := yk.Serial(); err != nil || serial != uint32(7000+i) {
			t.Errorf("reader %s: serial %d, %v; want %d", env.Readers[i].Name, serial, err, 7000+i)
		}
		yk.Close()
	}
}
