//go:build linux || darwin || freebsd || openbsd

// Package pcsc sends raw APDUs to a card through PC/SC, for what piv-go does not speak:
// vscard's own commands (the offline unblock of package vcard). Everything PIV goes
// through piv-go. Like piv-go it links libpcsclite with cgo.
package pcsc

// #cgo darwin LDFLAGS: -framework PCSC
// #cgo linux pkg-config: libpcsclite
// #cgo freebsd openbsd CFLAGS: -I/usr/local/include/ -I/usr/local/include/PCSC
// #cgo freebsd openbsd LDFLAGS: -L/usr/local/lib/ -lpcsclite
// #include <stdlib.h>
// #include <PCSC/winscard.h>
// #include <PCSC/wintypes.h>
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Card is a connection to the card in one reader, held exclusively (as piv-go does) until
// Close, so that no other program's command comes between two of ours.
type Card struct {
	ctx C.SCARDCONTEXT
	h   C.SCARDHANDLE
}

// Connect opens the card in reader.
func Connect(reader string) (*Card, error) {
	var c Card
	if rc := C.SCardEstablishContext(C.SCARD_SCOPE_SYSTEM, nil, nil, &c.ctx); rc != C.SCARD_S_SUCCESS {
		return nil, fmt.Errorf("connect to pcscd: %w", scErr(rc))
	}
	name := C.CString(reader)
	defer C.free(unsafe.Pointer(name))
	var proto C.DWORD
	if rc := C.SCardConnect(c.ctx, name, C.SCARD_SHARE_EXCLUSIVE, C.SCARD_PROTOCOL_T1, &c.h, &proto); rc != C.SCARD_S_SUCCESS {
		C.SCardReleaseContext(c.ctx)
		return nil, fmt.Errorf("connect to card in %q: %w", reader, scErr(rc))
	}
	return &c, nil
}

// Transmit sends one command APDU and returns the response data and status word, after
// collecting what the card holds back with 61xx (GET RESPONSE).
func (c *Card) Transmit(apdu []byte) ([]byte, uint16, error) {
	var out []byte
	for {
		var resp [C.MAX_BUFFER_SIZE_EXTENDED]byte
		n := C.DWORD(len(resp))
		rc := C.SCardTransmit(c.h, C.SCARD_PCI_T1, (*C.BYTE)(&apdu[0]), C.DWORD(len(apdu)), nil, (*C.BYTE)(&resp[0]), &n)
		if rc != C.SCARD_S_SUCCESS {
			return nil, 0, fmt.Errorf("transmit to card: %w", scErr(rc))
		}
		if n < 2 {
			return nil, 0, errors.New("transmit to card: response shorter than a status word")
		}
		out = append(out, resp[:n-2]...)
		sw := uint16(resp[n-2])<<8 | uint16(resp[n-1])
		if sw>>8 != 0x61 {
			return out, sw, nil
		}
		apdu = []byte{0x00, 0xC0, 0x00, 0x00, resp[n-1]}
	}
}

// Close gives the card up, leaving it powered, and ends the PC/SC context.
func (c *Card) Close() error {
	rc := C.SCardDisconnect(c.h, C.SCARD_LEAVE_CARD)
	C.SCardReleaseContext(c.ctx)
	if rc != C.SCARD_S_SUCCESS {
		return fmt.Errorf("disconnect card: %w", scErr(rc))
	}
	return nil
}

// scErr is a PC/SC return code as an error.
type scErr C.LONG

func (e scErr) Error() string { return fmt.Sprintf("PC/SC error %#x", uint32(e)) }
