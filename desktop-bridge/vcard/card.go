package vcard

import (
	"sync"
)

// maxChainedData bounds the data a client may send with command chaining.
// The largest legitimate command, PUT DATA of a certificate object, is far
// smaller.
const maxChainedData = 16 << 10

// Card is a software PIV card. Its methods are safe for concurrent use; APDUs
// are processed one at a time.
//
// A Card created by Create or Open writes its state to disk before it answers
// any command that changed it, and holds an exclusive lock on its file until
// Close.
type Card struct {
	mu sync.Mutex
	st *state
	// committed is the state as last written to disk; st differs from it
	// only while a command runs.
	committed *state
	store     *cardFile // nil for a card that lives in memory only
	closed    bool

	sess session
}

// session is the volatile security state of the card. Reset and PowerOff
// wipe it.
type session struct {
	pinVerified bool
	// pinFresh is set by a successful VERIFY and consumed by the next private
	// key operation; keys with PIN policy "always" need it.
	pinFresh bool
	// keyAuth is, on a TPM card, the secret the PIN (or PUK) released from
	// the TPM: the authValue of the PIN-bound keys. Wiped with the session.
	keyAuth    []byte
	mgmtAuthed bool
	// mgmtWitness is the plain witness (or challenge) of a management key
	// authentication in progress.
	mgmtWitness []byte
	mgmtMode    byte // 0x80 mutual, 0x81 external

	chain    []byte
	chainHdr [3]byte // INS P1 P2 of the chain in progress
	chaining bool

	pending []byte // response bytes awaiting GET RESPONSE
}

func newCard(st *state, store *cardFile) *Card {
	return &Card{st: st, committed: st.clone(), store: store}
}

// Serial returns the card's serial number.
func (c *Card) Serial() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.serial
}

// Reset models a warm reset of the card: the security state (PIN verified,
// management key authenticated) and any half-finished command are wiped.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = session{}
}

// PowerOff models removing power from the card; like Reset it wipes the
// security state.
func (c *Card) PowerOff() {
	c.Reset()
}

// Transmit processes one command APDU and returns the response APDU (data
// followed by SW1 SW2). It never returns fewer than two bytes.
func (c *Card) Transmit(apdu []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.closed {
		return swBytes(nil, swUnknown)
	}
	cmd, sw := parseCommand(apdu)
	if sw != swOK {
		c.sess.chaining, c.sess.chain, c.sess.pending = false, nil, nil
		return swBytes(nil, sw)
	}
	if cmd.ins == insGetResponse && cmd.cla&^0x10 == 0 {
		return c.getResponse(cmd)
	}
	c.sess.pending = nil

	if cmd.cla&^0x10 != 0 && cmd.cla != claVscard {
		c.sess.chaining, c.sess.chain = false, nil
		return swBytes(nil, swCLANotSupported)
	}
	hdr := [3]byte{cmd.ins, cmd.p1, cmd.p2}
	if c.sess.chaining && hdr != c.sess.chainHdr {
		c.sess.chaining, c.sess.chain = false, nil
		return swBytes(nil, swLastCommandExpected)
	}
	if cmd.chained() {
		if len(c.sess.chain)+len(cmd.data) > maxChainedData {
			c.sess.chaining, c.sess.chain = false, nil
			return swBytes(nil, swWrongLength)
		}
		c.sess.chain = append(c.sess.chain, cmd.data...)
		c.sess.chainHdr, c.sess.chaining = hdr, true
		return swBytes(nil, swOK)
	}
	if c.sess.chaining {
		cmd.data = append(c.sess.chain, cmd.data...)
		c.sess.chaining, c.sess.chain = false, nil
	}

	// A management key challenge is only good for the very next command.
	witness, mode := c.sess.mgmtWitness, c.sess.mgmtMode
	c.sess.mgmtWitness, c.sess.mgmtMode = nil, 0

	r := c.dispatch(&cmd, witness, mode)
	if r.sw == swMemoryFailure || !c.commit() {
		// The change could not be made durable: forget it, so that what
		// the card does matches what it will remember.
		c.st = c.committed.clone()
		r = status(swMemoryFailure)
	}
	return c.respond(r, cmd.ne)
}

// commit writes the state to disk if it changed since the last commit, and
// reports whether the card's file now matches st. Handlers call it
// mid-command where the order matters: a retry counter is decremented and
// committed before the PIN is compared, so that a failing disk cannot be
// used as an oracle that spares the counter.
func (c *Card) commit() bool {
	if c.st.equal(c.committed) {
		return true
	}
	if c.store != nil {
		if err := c.store.save(c.st); err != nil {
			return false
		}
	}
	c.committed = c.st.clone()
	return true
}

// respond splits r into what fits one response and what waits for GET
// RESPONSE.
func (c *Card) respond(r response, ne int) []byte {
	if r.sw != swOK || len(r.data) == 0 {
		return swBytes(r.data, r.sw)
	}
	c.sess.pending = r.data
	return c.nextChunk(ne)
}

func (c *Card) getResponse(cmd command) []byte {
	if len(c.sess.pending) == 0 {
		return swBytes(nil, swConditionsNotMet)
	}
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return swBytes(nil, swWrongP1P2)
	}
	return c.nextChunk(cmd.ne)
}

// nextChunk returns up to 256 (or ne) pending bytes with 9000, or with 61xx
// when more remain.
func (c *Card) nextChunk(ne int) []byte {
	size := 256
	if ne > 0 && ne < size {
		size = ne
	}
	data := c.sess.pending
	if len(data) <= size {
		c.sess.pending = nil
		return swBytes(data, swOK)
	}
	c.sess.pending = data[size:]
	left := len(c.sess.pending)
	if left > 255 {
		left = 0 // 6100: 256 or more bytes remain
	}
	return swBytes(data[:size], swMoreData|uint16(left))
}

func swBytes(data []byte, sw uint16) []byte {
	out := make([]byte, 0, len(data)+2)
	out = append(out, data...)
	return append(out, byte(sw>>8), byte(sw))
}

// Instructions.
const (
	insVerify        = 0x20
	insChangeRef     = 0x24
	insResetRetry    = 0x2C
	insGenerate      = 0x47
	insGenAuth       = 0x87
	insSelect        = 0xA4
	insGetResponse   = 0xC0
	insGetData       = 0xCB
	insPutData       = 0xDB
	insGetMetadata   = 0xF7
	insGetSerial     = 0xF8
	insAttest        = 0xF9
	insSetRetries    = 0xFA
	insReset         = 0xFB
	insGetVersion    = 0xFD
	insImportKey     = 0xFE
	insSetManagement = 0xFF
)

func (c *Card) dispatch(cmd *command, witness []byte, mode byte) response {
	if cmd.cla == claVscard {
		return c.dispatchVscard(cmd)
	}
	switch cmd.ins {
	case insSelect:
		return c.selectApp(cmd)
	case insGetVersion:
		if len(cmd.data) != 0 {
			return status(swWrongLength)
		}
		v := c.st.version
		return reply(v[:])
	case insGetSerial:
		if len(cmd.data) != 0 {
			return status(swWrongLength)
		}
		s := c.st.serial
		return reply([]byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)})
	case insVerify:
		return c.verify(cmd)
	case insChangeRef:
		return c.changeReference(cmd)
	case insResetRetry:
		return c.resetRetryCounter(cmd)
	case insSetRetries:
		return c.setRetries(cmd)
	case insReset:
		return c.reset(cmd)
	case insGenAuth:
		if cmd.p2 == slotManagement {
			return c.authenticateManagement(cmd, witness, mode)
		}
		return c.privateKeyOperation(cmd)
	case insSetManagement:
		return c.setManagementKey(cmd)
	case insGetMetadata:
		return c.metadata(cmd)
	case insGenerate:
		return c.generate(cmd)
	case insImportKey:
		return c.importKey(cmd)
	case insMoveKey:
		return c.moveKey(cmd)
	case insAttest:
		return c.attest(cmd)
	case insGetData:
		return c.getData(cmd)
	case insPutData:
		return c.putData(cmd)
	}
	return status(swINSNotSupported)
}
