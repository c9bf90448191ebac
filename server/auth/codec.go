package auth

import (
	"maps"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec is scs's gob encoding with a memory of what it decoded and encoded lately.
// A request decodes its session when scs loads it, encodes it when scs commits it, and
// Store decodes that encoding again (the user id and sign-in time in expiryOf, the
// comparison with what was read in sameData): gob sets up a fresh decoder, type
// descriptions and all, for every value, and that was most of a session's CPU. The bytes
// stay the same gob as before, so sessions written by an older version read as before.
var sessionCodec = newCachedCodec(4096)

// decoded is one session's data as decoded, shared read-only between callers.
type decoded struct {
	deadline time.Time
	values   map[string]any
}

// cachedCodec remembers up to max encodings and their decoded values, keyed by the
// encoding itself, so that equal bytes are decoded once. When full it starts afresh.
type cachedCodec struct {
	mu   sync.Mutex
	max  int
	byte map[string]decoded
}

func newCachedCodec(max int) *cachedCodec {
	return &cachedCodec{max: max, byte: make(map[string]decoded, max)}
}

var _ scs.Codec = (*cachedCodec)(nil)

// Encode implements scs.Codec.
func (c *cachedCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		return nil, err
	}
	c.remember(b, decoded{deadline: deadline, values: maps.Clone(values)})
	return b, nil
}

// Decode implements scs.Codec. scs changes the map it gets, so it gets a copy.
func (c *cachedCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	d, err := c.decode(b)
	if err != nil {
		return time.Time{}, nil, err
	}
	return d.deadline, maps.Clone(d.values), nil
}

// decode is Decode for callers that only read the values.
func (c *cachedCodec) decode(b []byte) (decoded, error) {
	c.mu.Lock()
	d, ok := c.byte[string(b)]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	deadline, values, err := scs.GobCodec{}.Decode(b)
	if err != nil {
		return decoded{}, err
	}
	d = decoded{deadline: deadline, values: values}
	c.remember(b, decoded{deadline: deadline, values: maps.Clone(values)})
	return d, nil
}

func (c *cachedCodec) remember(b []byte, d decoded) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byte) >= c.max {
		clear(c.byte)
	}
	c.byte[string(b)] = d
}
