package vcard

// Status words used by the card (ISO/IEC 7816-4, NIST SP 800-73-4 part 2).
const (
	swOK                   = 0x9000
	swMoreData             = 0x6100
	swVerifyFail           = 0x63C0
	swMemoryFailure        = 0x6581
	swWrongLength          = 0x6700
	swChainingUnsupported  = 0x6884
	swLastCommandExpected  = 0x6883
	swSecurityNotSatisfied = 0x6982
	swAuthBlocked          = 0x6983
	swConditionsNotMet     = 0x6985
	swWrongData            = 0x6A80
	swFuncNotSupported     = 0x6A81
	swNotFound             = 0x6A82
	swNoSpace              = 0x6A84
	swWrongP1P2            = 0x6A86
	swRefNotFound          = 0x6A88
	swINSNotSupported      = 0x6D00
	swCLANotSupported      = 0x6E00
	swUnknown              = 0x6F00
)

// command is one parsed command APDU.
type command struct {
	cla, ins, p1, p2 byte
	data             []byte
	// ne is the maximum response length the client accepts; 0 means none
	// was given.
	ne int
}

// chained reports whether the command is a non-final part of a chain.
func (c *command) chained() bool { return c.cla&0x10 != 0 }

// parseCommand decodes a short or extended command APDU (ISO/IEC 7816-3
// cases 1 to 4). It returns a status word other than swOK when raw is not a
// well-formed APDU.
func parseCommand(raw []byte) (command, uint16) {
	if len(raw) < 4 {
		return command{}, swWrongLength
	}
	c := command{cla: raw[0], ins: raw[1], p1: raw[2], p2: raw[3]}
	body := raw[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2 short
		c.ne = int(body[0])
		if c.ne == 0 {
			c.ne = 256
		}
	case body[0] != 0: // case 3 or 4 short
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
		case 2 + lc:
			c.ne = int(body[1+lc])
			if c.ne == 0 {
				c.ne = 256
			}
		default:
			return command{}, swWrongLength
		}
		c.data = body[1 : 1+lc]
	case len(body) == 3: // case 2 extended
		c.ne = int(body[1])<<8 | int(body[2])
		if c.ne == 0 {
			c.ne = 65536
		}
	case len(body) > 3: // case 3 or 4 extended
		lc := int(body[1])<<8 | int(body[2])
		if lc == 0 {
			return command{}, swWrongLength
		}
		switch len(body) {
		case 3 + lc:
		case 5 + lc:
			c.ne = int(body[3+lc])<<8 | int(body[4+lc])
			if c.ne == 0 {
				c.ne = 65536
			}
		default:
			return command{}, swWrongLength
		}
		c.data = body[3 : 3+lc]
	default:
		return command{}, swWrongLength
	}
	return c, swOK
}

// response is what a command handler returns before chunking.
type response struct {
	data []byte
	sw   uint16
}

func status(sw uint16) response { return response{sw: sw} }

func reply(data []byte) response { return response{data: data, sw: swOK} }

// retriesSW encodes "verification failed, n tries left".
func retriesSW(n int) uint16 {
	if n > 15 {
		n = 15
	}
	return swVerifyFail | uint16(n)
}
