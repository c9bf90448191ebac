package options

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/vscard/vscard/server/cardspec"
)

// problem is a wrong value in the result of options(), named by its path in that result
// ("pin.max_length", "pin.block_list[2]"). key says the dict key itself is wrong, not its value.
type problem struct {
	path, msg string
	key       bool
}

// decoder turns the dict options() returns into Options, collecting every problem rather than
// stopping at the first, so that an administrator fixes a script in one go.
type decoder struct{ problems []problem }

func (d *decoder) fail(path, format string, args ...any) {
	d.problems = append(d.problems, problem{path: path, msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) failKey(path, format string, args ...any) {
	d.fail(path, format, args...)
	d.problems[len(d.problems)-1].key = true
}

// The keys of the result, in the script's snake_case; the JSON names of Options are camelCase.
var (
	topKeys = []string{"pin", "certificates", "validity", "properties"}
	// optionalTopKeys may be left out; a script written before they existed stays valid.
	optionalTopKeys = []string{"self_unlock", "unblock_pin_offline", "renewal", "key_protection"}
	renewalKeys     = []string{"window_days", "notice_days"}
	pinKeys         = []string{"min_length", "max_length", "upper_case", "lower_case", "digits", "special", "max_repeated", "max_sequential", "retry_count", "block_list"}
	propertyKeys    = []string{"user_id", "server_name", "profile_name", "common_name", "email", "organization"}
	// pivSlots are the PIV key slots a certificate may go into: the four standard slots and
	// the twenty retired key management slots.
	pivSlots = regexp.MustCompile(`^(9A|9C|9D|9E|8[2-9A-F]|9[0-5])$`)
	propName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

const maxPropertyLength = 1024

// decode checks v, the value options() returned, and converts it.
func decode(v starlark.Value) (*cardspec.Options, []problem) {
	d := &decoder{}
	top, _ := d.fields(v, "", topKeys, append(slices.Clone(topKeys), optionalTopKeys...), false)
	if top == nil {
		return nil, d.problems
	}
	o := &cardspec.Options{}
	if v, ok := top["pin"]; ok {
		o.PIN = d.pin(v)
	}
	if v, ok := top["certificates"]; ok {
		o.Certificates = d.certificates(v)
	}
	if v, ok := top["validity"]; ok {
		o.Validity = d.validity(v)
	}
	if v, ok := top["properties"]; ok {
		o.Properties = d.properties(v)
	}
	if v, ok := top["self_unlock"]; ok {
		b, isBool := v.(starlark.Bool)
		if !isBool {
			d.fail("self_unlock", "self_unlock must be True or False, not %s", describe(v))
		}
		o.SelfUnlock = bool(b)
	}
	if v, ok := top["unblock_pin_offline"]; ok {
		b, isBool := v.(starlark.Bool)
		if !isBool {
			d.fail("unblock_pin_offline", "unblock_pin_offline must be True or False, not %s", describe(v))
		}
		o.UnblockPINOffline = bool(b)
	}
	o.KeyProtection = cardspec.KeyPolicySoftware
	if v, ok := top["key_protection"]; ok {
		s, isString := v.(starlark.String)
		if p := cardspec.KeyPolicy(s); !isString || !p.Valid() {
			d.fail("key_protection", "key_protection must be TPM, TPM_PREFERRED or SOFTWARE, not %s", describe(v))
		} else {
			o.KeyProtection = p
		}
	}
	o.Renewal = cardspec.DefaultRenewal()
	if v, ok := top["renewal"]; ok {
		o.Renewal = d.renewal(v)
	}
	if len(d.problems) > 0 {
		return nil, d.problems
	}
	return o, nil
}

func (d *decoder) pin(v starlark.Value) cardspec.PINPolicy {
	f, _ := d.fields(v, "pin", pinKeys, pinKeys, false)
	if f == nil {
		return cardspec.PINPolicy{}
	}
	p := cardspec.PINPolicy{
		MinLength:     d.intIn(f, "pin", "min_length", cardspec.MinPINLength, cardspec.MaxPINLength, "PIV cards need PINs of %[1]d to %[2]d characters"),
		MaxLength:     d.intIn(f, "pin", "max_length", cardspec.MinPINLength, cardspec.MaxPINLength, "PIV cards store PINs of %[1]d to %[2]d characters"),
		Upper:         d.rule(f, "pin", "upper_case"),
		Lower:         d.rule(f, "pin", "lower_case"),
		Digits:        d.rule(f, "pin", "digits"),
		Special:       d.rule(f, "pin", "special"),
		MaxRepeated:   d.intIn(f, "pin", "max_repeated", 0, cardspec.MaxPINLength, "use 0 for no limit or at most %[2]d"),
		MaxSequential: d.intIn(f, "pin", "max_sequential", 0, cardspec.MaxPINLength, "use 0 for no limit or at most %[2]d"),
		RetryCount:    d.intIn(f, "pin", "retry_count", 1, cardspec.MaxRetryCount, "a card blocks after %[1]d to %[2]d wrong PINs"),
		BlockList:     d.blockList(f["block_list"]),
	}
	if p.MinLength > p.MaxLength && p.MaxLength != 0 {
		d.fail("pin.min_length", "pin.min_length (%d) is greater than pin.max_length (%d)", p.MinLength, p.MaxLength)
	}
	if p.Upper == cardspec.Disallowed && p.Lower == cardspec.Disallowed && p.Digits == cardspec.Disallowed && p.Special == cardspec.Disallowed {
		d.fail("pin", "pin: every kind of character is DISALLOWED, so no PIN is possible")
	}
	return p
}

func (d *decoder) blockList(v starlark.Value) []string {
	const path = "pin.block_list"
	seq, ok := v.(starlark.Indexable)
	if _, isString := v.(starlark.String); !ok || isString {
		d.fail(path, "%s must be a list of PINs, not %s", path, describe(v))
		return nil
	}
	out := make([]string, 0, seq.Len())
	for i := range seq.Len() {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, ok := seq.Index(i).(starlark.String)
		switch {
		case !ok:
			d.fail(p, "%s must be a string, not %s", p, describe(seq.Index(i)))
		case len(s) == 0 || len(s) > cardspec.MaxPINLength || !printableASCII(string(s)):
			d.fail(p, "%s is %q: a PIN is 1 to %d printable ASCII characters", p, string(s), cardspec.MaxPINLength)
		default:
			out = append(out, string(s))
		}
	}
	return out
}

func (d *decoder) rule(f map[string]starlark.Value, parent, key string) cardspec.Rule {
	path := parent + "." + key
	s, ok := f[key].(starlark.String)
	if !ok {
		d.fail(path, "%s must be ALLOWED, REQUIRED or DISALLOWED, not %s", path, describe(f[key]))
		return ""
	}
	if r := cardspec.Rule(s); r.Valid() {
		return r
	}
	d.fail(path, "%s must be ALLOWED, REQUIRED or DISALLOWED, not %q", path, string(s))
	return ""
}

// certificates decodes {TEMPLATE: None | ALGORITHM | {"algorithm": A, "slot": S}}.
func (d *decoder) certificates(v starlark.Value) []cardspec.CertificateSpec {
	const path = "certificates"
	dict, ok := v.(*starlark.Dict)
	if !ok {
		d.fail(path, "certificates must be a dict such as {AUTHENTICATION: ECCP256}, not %s", describe(v))
		return nil
	}
	var out []cardspec.CertificateSpec
	usedBy := map[string]cardspec.Template{}
	for _, item := range dict.Items() {
		k, val := item[0], item[1]
		name, _ := k.(starlark.String)
		t := cardspec.Template(name)
		p := path + "." + string(name)
		if !t.Valid() {
			d.failKey(p, "certificates: %s is not a certificate; use AUTHENTICATION, SIGNATURE or ENCRYPTION", describe(k))
			continue
		}
		spec := cardspec.CertificateSpec{Template: t, Slot: t.Slot()}
		switch val := val.(type) {
		case starlark.NoneType:
			continue // not issued
		case starlark.String:
			spec.Algorithm = d.algorithm(p, val)
		case *starlark.Dict:
			f, _ := d.fields(val, p, []string{"algorithm"}, []string{"algorithm", "slot"}, false)
			if f == nil {
				continue
			}
			spec.Algorithm = d.algorithm(p+".algorithm", f["algorithm"])
			if s, ok := f["slot"]; ok {
				spec.Slot = d.slot(p+".slot", s)
			}
		default:
			d.fail(p, "%s must be a key algorithm (ECCP256, ECCP384, RSA2048) or None, not %s", p, describe(val))
			continue
		}
		if other, ok := usedBy[spec.Slot]; ok && spec.Slot != "" {
			d.fail(p, "%s: slot %s is already used by %s", p, spec.Slot, other)
			continue
		}
		usedBy[spec.Slot] = t
		out = append(out, spec)
	}
	if len(out) == 0 && len(d.problems) == 0 {
		d.fail(path, "certificates: no certificate is issued; give at least one a key algorithm")
	}
	sort.Slice(out, func(i, j int) bool { return slotOrder(out[i].Slot) < slotOrder(out[j].Slot) })
	return out
}

// renewal decodes {"window_days": N, "notice_days": [D, ...]}: the days are sorted largest
// first, and each must lie within the window and appear once.
func (d *decoder) renewal(v starlark.Value) cardspec.Renewal {
	f, _ := d.fields(v, "renewal", renewalKeys, renewalKeys, false)
	if f == nil {
		return cardspec.Renewal{}
	}
	r := cardspec.Renewal{
		WindowDays: d.intIn(f, "renewal", "window_days", 1, cardspec.MaxRenewalWindowDays, "a card becomes due %[1]d to %[2]d days before it expires"),
	}
	const path = "renewal.notice_days"
	seq, ok := f["notice_days"].(starlark.Indexable)
	if _, isString := f["notice_days"].(starlark.String); !ok || isString {
		d.fail(path, "%s must be a list of days, e.g. [60, 30, 14, 7], not %s", path, describe(f["notice_days"]))
		return r
	}
	if seq.Len() > cardspec.MaxNoticeDays {
		d.fail(path, "%s has %d days; at most %d notices are sent", path, seq.Len(), cardspec.MaxNoticeDays)
		return r
	}
	seen := map[int]bool{}
	for i := range seq.Len() {
		p := fmt.Sprintf("%s[%d]", path, i)
		n, err := starlark.AsInt32(seq.Index(i))
		if _, isInt := seq.Index(i).(starlark.Int); !isInt || err != nil {
			d.fail(p, "%s must be an int, not %s", p, describe(seq.Index(i)))
			continue
		}
		switch {
		case n < 1 || (r.WindowDays > 0 && n > r.WindowDays):
			d.fail(p, "%s is %d, but a notice goes out 1 to %d days (renewal.window_days) before expiry", p, n, max(r.WindowDays, 1))
		case seen[n]:
			d.fail(p, "%s: %d days is listed twice", p, n)
		default:
			seen[n] = true
			r.NoticeDays = append(r.NoticeDays, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(r.NoticeDays)))
	if r.NoticeDays == nil {
		r.NoticeDays = []int{} // no e-mail notices: the open task alone
	}
	return r
}

// slotOrder sorts the standard slots (9A, 9C, 9D, 9E) before the retired ones (82 to 95).
func slotOrder(slot string) string {
	if len(slot) == 2 && slot[1] >= 'A' {
		return "0" + slot
	}
	return "1" + slot
}

func (d *decoder) algorithm(path string, v starlark.Value) cardspec.KeyAlgorithm {
	if s, ok := v.(starlark.String); ok && cardspec.KeyAlgorithm(s).Valid() {
		return cardspec.KeyAlgorithm(s)
	}
	d.fail(path, "%s: %s is not a key algorithm; use ECCP256, ECCP384 or RSA2048", path, describe(v))
	return ""
}

func (d *decoder) slot(path string, v starlark.Value) string {
	s, ok := v.(starlark.String)
	if slot := strings.ToUpper(string(s)); ok && pivSlots.MatchString(slot) {
		return slot
	}
	d.fail(path, "%s: %s is not a PIV key slot; use 9A, 9C, 9D, 9E or 82 to 95", path, describe(v))
	return ""
}

// validity decodes {"years": N} or {"days": N}.
func (d *decoder) validity(v starlark.Value) cardspec.Validity {
	f, _ := d.fields(v, "validity", nil, []string{"years", "days"}, false)
	if f == nil {
		return cardspec.Validity{}
	}
	_, years := f["years"]
	_, days := f["days"]
	switch {
	case years && days:
		d.fail("validity", "validity must give years or days, not both")
	case years:
		return cardspec.Validity{Years: d.intIn(f, "validity", "years", 1, cardspec.MaxValidityYears, "certificates are valid for %[1]d to %[2]d years")}
	case days:
		return cardspec.Validity{DaysN: d.intIn(f, "validity", "days", 1, cardspec.MaxValidityDays, "certificates are valid for %[1]d to %[2]d days")}
	default:
		d.fail("validity", `validity must give years or days, e.g. {"years": 2}`)
	}
	return cardspec.Validity{}
}

func (d *decoder) properties(v starlark.Value) cardspec.Properties {
	const path = "properties"
	f, extra := d.fields(v, path, nil, propertyKeys, true)
	if f == nil {
		return cardspec.Properties{}
	}
	str := func(key string, required bool) string {
		s := d.property(path+"."+key, f[key])
		if required && s == "" {
			d.fail(path+"."+key, "%s.%s is empty for this user", path, key)
		}
		return s
	}
	p := cardspec.Properties{
		UserID:       str("user_id", true),
		ServerName:   str("server_name", false),
		ProfileName:  str("profile_name", true),
		CommonName:   str("common_name", true),
		Email:        str("email", false),
		Organization: str("organization", false),
	}
	for _, key := range extra {
		kp := path + "." + key
		if !propName.MatchString(key) {
			d.failKey(kp, "%s: property names are lower case letters, digits and _, starting with a letter", kp)
			continue
		}
		if s := d.property(kp, f[key]); s != "" {
			if p.Extra == nil {
				p.Extra = map[string]string{}
			}
			p.Extra[key] = s
		}
	}
	return p
}

// property decodes a string property; None counts as "" so that attributes.get("x") works.
func (d *decoder) property(path string, v starlark.Value) string {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return ""
	case starlark.String:
		s := string(v)
		switch {
		case len(s) > maxPropertyLength:
			d.fail(path, "%s is %d bytes long, at most %d are allowed", path, len(s), maxPropertyLength)
		case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }):
			d.fail(path, "%s must be text without control characters", path)
		default:
			return s
		}
		return ""
	}
	d.fail(path, "%s must be a string, not %s", path, describe(v))
	return ""
}

// fields checks that v is a dict with string keys, that it has every required key and, unless
// extras are allowed, no key outside known. It returns the values by key and the extra keys
// in order, or nil when v is not a dict.
func (d *decoder) fields(v starlark.Value, path string, required, known []string, allowExtra bool) (map[string]starlark.Value, []string) {
	name := path
	if name == "" {
		name = "the result of options()"
	}
	dict, ok := v.(*starlark.Dict)
	if !ok {
		d.fail(path, "%s must be a dict, not %s", name, describe(v))
		return nil, nil
	}
	out := make(map[string]starlark.Value, dict.Len())
	var extra []string
	for _, item := range dict.Items() {
		k, ok := item[0].(starlark.String)
		if !ok {
			d.fail(path, "%s: keys must be strings, not %s", name, describe(item[0]))
			continue
		}
		key := string(k)
		out[key] = item[1]
		if !contains(known, key) {
			if allowExtra {
				extra = append(extra, key)
				continue
			}
			d.failKey(join(path, key), "%s: unknown key %q; the keys are %s", name, key, strings.Join(known, ", "))
		}
	}
	for _, key := range required {
		if _, ok := out[key]; !ok {
			d.fail(path, "%s: the key %q is missing", name, key)
		}
	}
	return out, extra
}

// intIn decodes f[key] as an int in [lo, hi]; why explains the range, with lo and hi as
// arguments 1 and 2.
func (d *decoder) intIn(f map[string]starlark.Value, parent, key string, lo, hi int, why string) int {
	path := join(parent, key)
	v, ok := f[key]
	if !ok {
		return 0 // reported as missing by fields
	}
	i, err := starlark.AsInt32(v)
	if _, isInt := v.(starlark.Int); !isInt || err != nil {
		d.fail(path, "%s must be an int, not %s", path, describe(v))
		return 0
	}
	if i < lo || i > hi {
		d.fail(path, "%s is %d, but %s", path, i, fmt.Sprintf(why, lo, hi))
		return 0
	}
	return i
}

// describe names a wrong value for a message: its type and a short rendering.
func describe(v starlark.Value) string {
	if v == nil {
		return "nothing"
	}
	if v == starlark.None {
		return "None"
	}
	const maxLen = 40
	if strSize(v, 4*maxLen) > 4*maxLen {
		return v.Type() // rendering it could take long: it may share structure a lot
	}
	s := v.String()
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return v.Type() + " " + s
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
