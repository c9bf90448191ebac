package vcard

import (
	"errors"
	"fmt"
)

// errMalformedTLV reports BER-TLV input that cannot be parsed.
var errMalformedTLV = errors.New("malformed TLV")

// maxTLVLength bounds a single TLV value; nothing a PIV card stores comes close.
const maxTLVLength = 0xFFFF

// tlv is one parsed BER-TLV element. Value aliases the parsed input.
type tlv struct {
	tag   uint32
	value []byte
}

// readTLV parses one BER-TLV element from the start of b. It accepts tags of
// up to three bytes and definite lengths of up to two bytes; input lengths may
// be non-minimal (some clients send them), output lengths never are.
func readTLV(b []byte) (t tlv, rest []byte, err error) {
	if len(b) < 2 {
		return tlv{}, nil, fmt.Errorf("read tag: %w", errMalformedTLV)
	}
	t.tag = uint32(b[0])
	i := 1
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) || i >= 3 {
				return tlv{}, nil, fmt.Errorf("read tag: %w", errMalformedTLV)
			}
			t.tag = t.tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return tlv{}, nil, fmt.Errorf("read length: %w", errMalformedTLV)
	}
	n := int(b[i])
	i++
	switch {
	case n < 0x80:
	case n == 0x81 || n == 0x82:
		size := n & 0x7F
		if i+size > len(b) {
			return tlv{}, nil, fmt.Errorf("read length: %w", errMalformedTLV)
		}
		n = 0
		for _, c := range b[i : i+size] {
			n = n<<8 | int(c)
		}
		i += size
	default:
		return tlv{}, nil, fmt.Errorf("read length: %w", errMalformedTLV)
	}
	if n > len(b)-i {
		return tlv{}, nil, fmt.Errorf("read value: %w", errMalformedTLV)
	}
	t.value = b[i : i+n : i+n]
	return t, b[i+n:], nil
}

// parseTLVs parses a sequence of BER-TLV elements that must fill b exactly.
func parseTLVs(b []byte) ([]tlv, error) {
	var out []tlv
	for len(b) > 0 {
		t, rest, err := readTLV(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// parseOne parses b as exactly one element with the given tag.
func parseOne(b []byte, tag uint32) ([]byte, error) {
	t, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if t.tag != tag || len(rest) != 0 {
		return nil, fmt.Errorf("expect tag %X: %w", tag, errMalformedTLV)
	}
	return t.value, nil
}

// find returns the value of the first element with the given tag.
func find(ts []tlv, tag uint32) ([]byte, bool) {
	for _, t := range ts {
		if t.tag == tag {
			return t.value, true
		}
	}
	return nil, false
}

// appendTLV appends tag, a DER-minimal length and value to dst. Values longer
// than maxTLVLength are a programming error.
func appendTLV(dst []byte, tag uint32, value []byte) []byte {
	switch {
	case tag > 0xFFFF:
		dst = append(dst, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		dst = append(dst, byte(tag>>8), byte(tag))
	default:
		dst = append(dst, byte(tag))
	}
	n := len(value)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xFF:
		dst = append(dst, 0x81, byte(n))
	case n <= maxTLVLength:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	default:
		panic(fmt.Sprintf("vcard: TLV value too long: %d", n))
	}
	return append(dst, value...)
}

// tlvBytes returns one encoded element.
func tlvBytes(tag uint32, value []byte) []byte {
	return appendTLV(make([]byte, 0, len(value)+6), tag, value)
}
