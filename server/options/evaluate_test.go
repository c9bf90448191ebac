package options

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

var testEnv = Env{ServerName: "vscard.example.com"}

// defaults is what DefaultScript yields for Sample().
func defaults() *cardspec.Options {
	return &cardspec.Options{
		PIN: cardspec.PINPolicy{
			MinLength: 6, MaxLength: 8,
			Upper: cardspec.Disallowed, Lower: cardspec.Disallowed, Digits: cardspec.Required, Special: cardspec.Disallowed,
			BlockList: []string{
				"123456", "1234567", "12345678",
				"000000", "0000000", "00000000",
				"111111", "11111111", "666666", "88888888",
				"123123", "121212", "112233", "123321",
				"654321", "87654321", "147258", "159753",
				"112358", "696969", "131313", "101010",
			},
			MaxRepeated: 3, MaxSequential: 3, RetryCount: 3,
		},
		Certificates: []cardspec.CertificateSpec{
			{Template: cardspec.Authentication, Slot: "9A", Algorithm: cardspec.ECCP256},
			{Template: cardspec.Signature, Slot: "9C", Algorithm: cardspec.ECCP256},
		},
		Validity: cardspec.Validity{Years: 2},
		Properties: cardspec.Properties{
			UserID:      "jane.doe@example.com",
			ServerName:  "vscard.example.com",
			ProfileName: "Virtual smart card jane.doe@example.com",
			CommonName:  "Jane Doe",
			Email:       "jane.doe@example.com",
		},
		Renewal:       cardspec.Renewal{WindowDays: 60, NoticeDays: []int{60, 30, 14, 7}},
		KeyProtection: cardspec.KeyPolicyTPMPreferred,
	}
}

// edit returns DefaultScript with old replaced by new; old must occur exactly once, so that a
// test notices when the default script changes under it.
func edit(t testing.TB, old, new string) string {
	t.Helper()
	if n := strings.Count(DefaultScript, old); n != 1 {
		t.Fatalf("the default script holds %q %d times, want once", old, n)
	}
	return strings.Replace(DefaultScript, old, new, 1)
}

// edits applies edit to each old, new pair in turn.
func edits(t testing.TB, pairs ...string) string {
	t.Helper()
	src := DefaultScript
	for i := 0; i < len(pairs); i += 2 {
		if n := strings.Count(src, pairs[i]); n != 1 {
			t.Fatalf("the default script holds %q %d times, want once", pairs[i], n)
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	return src
}

func assertOptions(t *testing.T, got, want *cardspec.Options) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("options differ\ngot:  %s\nwant: %s", g, w)
	}
}

func TestEvaluateDefault(t *testing.T) {
	got, err := Evaluate(context.Background(), DefaultScript, Sample(), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	assertOptions(t, got, defaults())
	if d := got.Validity.Days(); d != 730 {
		t.Errorf("Validity.Days() = %d, want 730", d)
	}
}

func TestEvaluateOption(t *testing.T) {
	blockList := regexp.MustCompile(`(?s)PIN_BLOCK_LIST = \[.*?\]`)
	tests := []struct {
		name   string
		source func(t testing.TB) string
		user   func(u *User)
		want   func(o *cardspec.Options)
	}{
		{
			name:   "ok/pin min length",
			source: func(t testing.TB) string { return edit(t, "PIN_MIN_LENGTH = 6", "PIN_MIN_LENGTH = 7") },
			want:   func(o *cardspec.Options) { o.PIN.MinLength = 7 },
		},
		{
			name:   "ok/pin max length",
			source: func(t testing.TB) string { return edit(t, "PIN_MAX_LENGTH = 8", "PIN_MAX_LENGTH = 6") },
			want:   func(o *cardspec.Options) { o.PIN.MaxLength = 6 },
		},
		{
			name:   "ok/upper case required",
			source: func(t testing.TB) string { return edit(t, "PIN_UPPER_CASE = DISALLOWED", "PIN_UPPER_CASE = REQUIRED") },
			want:   func(o *cardspec.Options) { o.PIN.Upper = cardspec.Required },
		},
		{
			name:   "ok/lower case allowed",
			source: func(t testing.TB) string { return edit(t, "PIN_LOWER_CASE = DISALLOWED", "PIN_LOWER_CASE = ALLOWED") },
			want:   func(o *cardspec.Options) { o.PIN.Lower = cardspec.Allowed },
		},
		{
			name:   "ok/digits allowed",
			source: func(t testing.TB) string { return edit(t, "PIN_DIGITS = REQUIRED", "PIN_DIGITS = ALLOWED") },
			want:   func(o *cardspec.Options) { o.PIN.Digits = cardspec.Allowed },
		},
		{
			name:   "ok/special required",
			source: func(t testing.TB) string { return edit(t, "PIN_SPECIAL = DISALLOWED", "PIN_SPECIAL = REQUIRED") },
			want:   func(o *cardspec.Options) { o.PIN.Special = cardspec.Required },
		},
		{
			name: "ok/block list",
			source: func(t testing.TB) string {
				return blockList.ReplaceAllString(DefaultScript, `PIN_BLOCK_LIST = ["13572468", "24681357"]`)
			},
			want: func(o *cardspec.Options) { o.PIN.BlockList = []string{"13572468", "24681357"} },
		},
		{
			name:   "ok/max repeated",
			source: func(t testing.TB) string { return edit(t, "PIN_MAX_REPEATED = 3", "PIN_MAX_REPEATED = 2") },
			want:   func(o *cardspec.Options) { o.PIN.MaxRepeated = 2 },
		},
		{
			name:   "ok/no sequence limit",
			source: func(t testing.TB) string { return edit(t, "PIN_MAX_SEQUENTIAL = 3", "PIN_MAX_SEQUENTIAL = 0") },
			want:   func(o *cardspec.Options) { o.PIN.MaxSequential = 0 },
		},
		{
			name:   "ok/retries",
			source: func(t testing.TB) string { return edit(t, "PIN_RETRY_COUNT = 3", "PIN_RETRY_COUNT = 10") },
			want:   func(o *cardspec.Options) { o.PIN.RetryCount = 10 },
		},
		{
			name:   "ok/encryption on",
			source: func(t testing.TB) string { return edit(t, "ENCRYPTION: None,", "ENCRYPTION: RSA2048,") },
			want: func(o *cardspec.Options) {
				o.Certificates = append(o.Certificates, cardspec.CertificateSpec{Template: cardspec.Encryption, Slot: "9D", Algorithm: cardspec.RSA2048})
			},
		},
		{
			name:   "ok/signature off",
			source: func(t testing.TB) string { return edit(t, "SIGNATURE: ECCP256,", "SIGNATURE: None,") },
			want:   func(o *cardspec.Options) { o.Certificates = o.Certificates[:1] },
		},
		{
			name: "ok/algorithm",
			source: func(t testing.TB) string {
				return edit(t, "AUTHENTICATION: ECCP256,", "AUTHENTICATION: ECCP384,")
			},
			want: func(o *cardspec.Options) { o.Certificates[0].Algorithm = cardspec.ECCP384 },
		},
		{
			name: "ok/retired slot",
			source: func(t testing.TB) string {
				return edit(t, "ENCRYPTION: None,", `ENCRYPTION: {"algorithm": ECCP256, "slot": "82"},`)
			},
			want: func(o *cardspec.Options) {
				o.Certificates = append(o.Certificates, cardspec.CertificateSpec{Template: cardspec.Encryption, Slot: "82", Algorithm: cardspec.ECCP256})
			},
		},
		{
			name:   "ok/validity years",
			source: func(t testing.TB) string { return edit(t, `VALIDITY = {"years": 2}`, `VALIDITY = {"years": 10}`) },
			want:   func(o *cardspec.Options) { o.Validity = cardspec.Validity{Years: 10} },
		},
		{
			name:   "ok/validity days",
			source: func(t testing.TB) string { return edit(t, `VALIDITY = {"years": 2}`, `VALIDITY = {"days": 90}`) },
			want:   func(o *cardspec.Options) { o.Validity = cardspec.Validity{DaysN: 90} },
		},
		{
			name:   "ok/user id",
			source: func(t testing.TB) string { return edit(t, `"user_id": user.email,`, `"user_id": user.id,`) },
			want:   func(o *cardspec.Options) { o.Properties.UserID = Sample().ID },
		},
		{
			name: "ok/server name",
			source: func(t testing.TB) string {
				return edit(t, `"server_name": env.server_name,`, `"server_name": "ca.example.org",`)
			},
			want: func(o *cardspec.Options) { o.Properties.ServerName = "ca.example.org" },
		},
		{
			name: "ok/profile name",
			source: func(t testing.TB) string {
				return edit(t, `"profile_name": "Virtual smart card " + user.email,`, `"profile_name": "%s (%s)" % (user.display_name, env.server_name),`)
			},
			want: func(o *cardspec.Options) { o.Properties.ProfileName = "Jane Doe (vscard.example.com)" },
		},
		{
			name:   "ok/common name falls back to the username",
			source: func(t testing.TB) string { return DefaultScript },
			user:   func(u *User) { u.DisplayName = "" },
			want:   func(o *cardspec.Options) { o.Properties.CommonName = "jdoe" },
		},
		{
			name: "ok/email",
			source: func(t testing.TB) string {
				return edit(t, `"email": user.email,`, `"email": user.username + "@corp.example.com",`)
			},
			want: func(o *cardspec.Options) { o.Properties.Email = "jdoe@corp.example.com" },
		},
		{
			name:   "ok/self unlock",
			source: func(t testing.TB) string { return edit(t, "SELF_UNLOCK = False", "SELF_UNLOCK = True") },
			want:   func(o *cardspec.Options) { o.SelfUnlock = true },
		},
		{
			name: "ok/self unlock left out is off",
			source: func(t testing.TB) string {
				return edit(t, `"self_unlock": SELF_UNLOCK,`, ``)
			},
			want: func(o *cardspec.Options) {},
		},
		{
			name: "ok/unblock pin offline",
			source: func(t testing.TB) string {
				return edit(t, "UNBLOCK_PIN_OFFLINE = False", "UNBLOCK_PIN_OFFLINE = True")
			},
			want: func(o *cardspec.Options) { o.UnblockPINOffline = true },
		},
		{
			name: "ok/renewal window and notice days, sorted largest first",
			source: func(t testing.TB) string {
				return edits(t, "RENEWAL_WINDOW = 60", "RENEWAL_WINDOW = 45", "NOTICE_DAYS = [60, 30, 14, 7]", "NOTICE_DAYS = [3, 45, 10]")
			},
			want: func(o *cardspec.Options) { o.Renewal = cardspec.Renewal{WindowDays: 45, NoticeDays: []int{45, 10, 3}} },
		},
		{
			name:   "ok/no notices",
			source: func(t testing.TB) string { return edit(t, "NOTICE_DAYS = [60, 30, 14, 7]", "NOTICE_DAYS = []") },
			want:   func(o *cardspec.Options) { o.Renewal.NoticeDays = []int{} },
		},
		{
			name: "ok/renewal left out takes the defaults",
			source: func(t testing.TB) string {
				return edit(t, `"renewal": {"window_days": RENEWAL_WINDOW, "notice_days": NOTICE_DAYS},`, ``)
			},
			want: func(o *cardspec.Options) {},
		},
		{
			name:   "ok/organization",
			source: func(t testing.TB) string { return edit(t, `ORGANIZATION = ""`, `ORGANIZATION = "Example Corp"`) },
			want:   func(o *cardspec.Options) { o.Properties.Organization = "Example Corp" },
		},
		{
			name: "ok/extra property",
			source: func(t testing.TB) string {
				return edit(t, `# "department": user.attributes.get("department", ""),`, `"department": user.attributes.get("department", ""),`)
			},
			want: func(o *cardspec.Options) { o.Properties.Extra = map[string]string{"department": "Engineering"} },
		},
		{
			name: "ok/key protection required",
			source: func(t testing.TB) string {
				return edit(t, `KEY_PROTECTION = TPM_PREFERRED`, `KEY_PROTECTION = TPM`)
			},
			want: func(o *cardspec.Options) { o.KeyProtection = cardspec.KeyPolicyTPM },
		},
		{
			name: "ok/computed from roles",
			source: func(t testing.TB) string {
				return edit(t, `"validity": VALIDITY,`, `"validity": {"days": 30} if "contractor" in user.roles else VALIDITY,`)
			},
			user: func(u *User) { u.Roles = []string{"contractor"} },
			want: func(o *cardspec.Options) { o.Validity = cardspec.Validity{DaysN: 30} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := Sample()
			if tt.user != nil {
				tt.user(&u)
			}
			got, err := Evaluate(context.Background(), tt.source(t), u, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tt.want(want)
			assertOptions(t, got, want)
		})
	}
}

// lineCol finds the position of the first occurrence of s in source (1-based), plus offset
// columns.
func lineCol(t *testing.T, source, s string, offset int) (int, int) {
	t.Helper()
	i := strings.Index(source, s)
	if i < 0 {
		t.Fatalf("%q not in the script", s)
	}
	line := strings.Count(source[:i], "\n") + 1
	col := i - strings.LastIndex(source[:i], "\n")
	return line, col + offset
}

func TestEvaluateRefuses(t *testing.T) {
	tests := []struct {
		name   string
		source string
		// at is a snippet of source where the error must point, with an offset in columns.
		at     string
		offset int
		path   string
		msg    []string // substrings of the message
	}{
		{
			name:   "error/does not compile",
			source: "def options(user, env):\n    return {\"pin\": }\n",
			at:     "}\n", msg: []string{"got '}', want primary expression"},
		},
		{
			name:   "error/undefined name",
			source: "def options(user, env):\n    return {\"pin\": PIN}\n",
			at:     "PIN}", msg: []string{"undefined: PIN"},
		},
		{
			name:   "error/load",
			source: "load(\"other.star\", \"x\")\ndef options(user, env):\n    return {}\n",
			at:     "load", msg: []string{"load() is not available"},
		},
		{
			name:   "error/no options function",
			source: "PIN_MIN_LENGTH = 6\n",
			msg:    []string{"must define a function options(user, env)"},
		},
		{
			name:   "error/options takes one parameter",
			source: "def options(user):\n    return {}\n",
			at:     "def", msg: []string{"exactly two parameters"},
		},
		{
			name:   "error/runtime error",
			source: "def options(user, env):\n    return {\"pin\": 1 + \"a\"}\n",
			at:     "+", msg: []string{"unknown binary op: int + string"},
		},
		{
			name:   "error/fail",
			source: "def options(user, env):\n    if user.email:\n        fail(\"every user needs an e-mail address\")\n    return {}\n",
			at:     "(\"every", msg: []string{"every user needs an e-mail address"},
		},
		{
			name:   "error/runs forever",
			source: "def options(user, env):\n    n = 0\n    for i in range(1000000000):\n        n += i\n    return {}\n",
			at:     "for i", msg: []string{"the script ran too long: more than 1000000 steps"},
		},
		{
			name:   "error/iterates forever inside a builtin",
			source: "def options(user, env):\n    return max(range(1000000000000))\n",
			at:     "(range", msg: []string{"the script ran too long: more than 1000000 steps"},
		},
		{
			name:   "error/repeats a string",
			source: "X = \"a\" * 1000000000\ndef options(user, env):\n    return {}\n",
			at:     "*", msg: []string{"the script uses too much memory: more than 64 MiB"},
		},
		{
			name:   "error/builds a list from a range",
			source: "def options(user, env):\n    return list(range(100000000))\n",
			at:     "(range", msg: []string{"too much memory"},
		},
		{
			name:   "error/doubles a list",
			source: "def options(user, env):\n    l = [\"x\"]\n    for i in range(64):\n        l += l\n    return {}\n",
			at:     "+=", msg: []string{"too much memory"},
		},
		{
			name:   "error/appends large strings",
			source: "def options(user, env):\n    l = []\n    for i in range(1000000):\n        l.append(\"x\" * 100000)\n    return {}\n",
			at:     "* 100000", msg: []string{"too much memory"},
		},
		{
			name:   "error/prints a shared structure",
			source: "def options(user, env):\n    l = [\"x\" * 100]\n    for i in range(64):\n        l = [l, l]\n    return str(l)\n",
			at:     "(l)", msg: []string{"too much memory"},
		},
		{
			name:   "error/multiplies integers",
			source: "def options(user, env):\n    n = 3\n    for i in range(64):\n        n = n * n\n    return {}\n",
			at:     "* n", msg: []string{"integer too large"},
		},
		{
			name:   "error/result is not a dict",
			source: "def options(user, env):\n    return [\"pin\"]\n",
			at:     "return", msg: []string{"the result of options() must be a dict, not list"},
		},
		{
			name:   "error/wrong type",
			source: edit(t, "PIN_MIN_LENGTH = 6", `PIN_MIN_LENGTH = "6"`),
			at:     `"6"`, path: "pin.min_length", msg: []string{`pin.min_length must be an int, not string "6"`},
		},
		{
			name:   "error/wrong type of certificates",
			source: edit(t, `"certificates": CERTIFICATES,`, `"certificates": [AUTHENTICATION],`),
			at:     `"certificates"`, path: "certificates", msg: []string{"must be a dict such as {AUTHENTICATION: ECCP256}, not list"},
		},
		{
			name:   "error/max length beyond PIV",
			source: edit(t, "PIN_MAX_LENGTH = 8", "PIN_MAX_LENGTH = 9"),
			at:     "9\n", path: "pin.max_length", msg: []string{"pin.max_length is 9", "PIV", "8 characters"},
		},
		{
			name:   "error/min length below PIV",
			source: edit(t, "PIN_MIN_LENGTH = 6", "PIN_MIN_LENGTH = 4"),
			at:     "4\n", path: "pin.min_length", msg: []string{"pin.min_length is 4", "PIV", "6 to 8"},
		},
		{
			name:   "error/min above max",
			source: edits(t, "PIN_MIN_LENGTH = 6", "PIN_MIN_LENGTH = 8", "PIN_MAX_LENGTH = 8", "PIN_MAX_LENGTH = 7"),
			at:     "8\n", path: "pin.min_length", msg: []string{"pin.min_length (8) is greater than pin.max_length (7)"},
		},
		{
			name:   "error/retries",
			source: edit(t, "PIN_RETRY_COUNT = 3", "PIN_RETRY_COUNT = 11"),
			at:     "= 11", offset: 2, path: "pin.retry_count", msg: []string{"pin.retry_count is 11", "1 to 10"},
		},
		{
			name:   "error/self unlock is not a bool",
			source: edit(t, "SELF_UNLOCK = False", `SELF_UNLOCK = "yes"`),
			at:     `"yes"`, path: "self_unlock", msg: []string{"self_unlock must be True or False"},
		},
		{
			name:   "error/unblock pin offline is not a bool",
			source: edit(t, "UNBLOCK_PIN_OFFLINE = False", `UNBLOCK_PIN_OFFLINE = 1`),
			at:     "= 1\n", offset: 2, path: "unblock_pin_offline", msg: []string{"unblock_pin_offline must be True or False"},
		},
		{
			name:   "error/key protection unknown",
			source: edit(t, "KEY_PROTECTION = TPM_PREFERRED", `KEY_PROTECTION = "HSM"`),
			at:     `"HSM"`, path: "key_protection", msg: []string{"key_protection must be TPM, TPM_PREFERRED or SOFTWARE"},
		},
		{
			name:   "error/renewal window too long",
			source: edit(t, "RENEWAL_WINDOW = 60", "RENEWAL_WINDOW = 400"),
			at:     "400", path: "renewal.window_days", msg: []string{"renewal.window_days is 400", "1 to 365 days"},
		},
		{
			name:   "error/notice before the window",
			source: edit(t, "NOTICE_DAYS = [60, 30, 14, 7]", "NOTICE_DAYS = [90, 30]"),
			at:     "90, 30]", path: "renewal.notice_days[0]", msg: []string{"renewal.notice_days[0] is 90", "1 to 60 days"},
		},
		{
			name:   "error/notice day twice",
			source: edit(t, "NOTICE_DAYS = [60, 30, 14, 7]", "NOTICE_DAYS = [30, 30]"),
			at:     "30]\n", path: "renewal.notice_days[1]", msg: []string{"30 days is listed twice"},
		},
		{
			name:   "error/notice days not a list",
			source: edit(t, "NOTICE_DAYS = [60, 30, 14, 7]", `NOTICE_DAYS = "60"`),
			at:     `"60"`, path: "renewal.notice_days", msg: []string{"must be a list of days"},
		},
		{
			name:   "error/unknown rule",
			source: edit(t, "PIN_SPECIAL = DISALLOWED", `PIN_SPECIAL = "SOMETIMES"`),
			at:     `"SOMETIMES"`, path: "pin.special", msg: []string{`pin.special must be ALLOWED, REQUIRED or DISALLOWED, not "SOMETIMES"`},
		},
		{
			name:   "error/unknown key",
			source: edit(t, `"min_length": PIN_MIN_LENGTH,`, `"min_lenght": PIN_MIN_LENGTH,`),
			at:     `"min_lenght"`, path: "pin.min_lenght", msg: []string{`unknown key "min_lenght"`, "min_length"},
		},
		{
			name:   "error/blocked PIN too long",
			source: edit(t, `"123456", "1234567",`, `"123456", "123456789",`),
			at:     `"123456789"`, path: "pin.block_list[1]", msg: []string{"pin.block_list[1]", "1 to 8"},
		},
		{
			name:   "error/unknown algorithm",
			source: edit(t, "AUTHENTICATION: ECCP256,", "AUTHENTICATION: \"RSA1024\","),
			at:     "AUTHENTICATION: \"", path: "certificates.AUTHENTICATION", msg: []string{`"RSA1024" is not a key algorithm`, "ECCP256, ECCP384 or RSA2048"},
		},
		{
			name:   "error/duplicate slot",
			source: edit(t, "SIGNATURE: ECCP256,", `SIGNATURE: {"algorithm": ECCP256, "slot": "9A"},`),
			at:     "SIGNATURE: {", path: "certificates.SIGNATURE", msg: []string{"slot 9A is already used by AUTHENTICATION"},
		},
		{
			name:   "error/no certificate",
			source: edits(t, "AUTHENTICATION: ECCP256,", "AUTHENTICATION: None,", "SIGNATURE: ECCP256,", "SIGNATURE: None,"),
			at:     "{\n    AUTHENTICATION", offset: 0, path: "certificates", msg: []string{"no certificate is issued"},
		},
		{
			name:   "error/validity too long",
			source: edit(t, `VALIDITY = {"years": 2}`, `VALIDITY = {"years": 11}`),
			at:     `"years": 11`, path: "validity.years", msg: []string{"validity.years is 11", "1 to 10 years"},
		},
		{
			name:   "error/validity in both units",
			source: edit(t, `VALIDITY = {"years": 2}`, `VALIDITY = {"years": 1, "days": 10}`),
			at:     `{"years": 1`, path: "validity", msg: []string{"years or days, not both"},
		},
		{
			name:   "error/property is not a string",
			source: edit(t, `"email": user.email,`, `"email": user.roles,`),
			at:     `"email": user.roles`, path: "properties.email", msg: []string{"properties.email must be a string, not list"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A generous time limit lets the step and memory limits decide, on a loaded machine
			// too; "fast" is checked separately.
			start := time.Now()
			_, err := Limits{Time: time.Minute}.Evaluate(context.Background(), tt.source, Sample(), testEnv)
			if elapsed := time.Since(start); elapsed > slowdown*DefaultMaxTime {
				t.Errorf("refusing took %v, want it within the default time limit", elapsed)
			}
			list := scriptErrors(t, err)
			got := list[0]
			for _, m := range tt.msg {
				if !strings.Contains(got.Message, m) {
					t.Errorf("message %q does not contain %q", got.Message, m)
				}
			}
			if got.Path != tt.path {
				t.Errorf("path = %q, want %q", got.Path, tt.path)
			}
			if tt.at != "" {
				line, col := lineCol(t, tt.source, tt.at, tt.offset)
				if got.Line != line || got.Column != col {
					t.Errorf("position = %d:%d, want %d:%d (%s)", got.Line, got.Column, line, col, got.Message)
				}
			}
		})
	}
}

// scriptErrors checks that err is a SCRIPT_ERROR carrying its list in Details and as cause.
func scriptErrors(t *testing.T, err error) ScriptErrors {
	t.Helper()
	if err == nil {
		t.Fatal("Evaluate succeeded, want a script error")
	}
	if !errors.Is(err, errs.Sentinel(errs.ScriptError)) {
		t.Fatalf("code = %s, want %s: %v", errs.CodeOf(err), errs.ScriptError, err)
	}
	var e *errs.Error
	errors.As(err, &e)
	details, ok := e.Details["errors"].([]ScriptError)
	var list ScriptErrors
	if !ok || !errors.As(err, &list) || len(list) == 0 || !reflect.DeepEqual([]ScriptError(list), details) {
		t.Fatalf("details %v and cause %v must hold the same script errors", e.Details, list)
	}
	return list
}

func TestEvaluateReportsEveryProblem(t *testing.T) {
	src := edits(t, "PIN_MAX_LENGTH = 8", "PIN_MAX_LENGTH = 9", "PIN_RETRY_COUNT = 3", "PIN_RETRY_COUNT = 0")
	list := scriptErrors(t, mustFail(Evaluate(context.Background(), src, Sample(), testEnv)))
	var paths []string
	for _, e := range list {
		paths = append(paths, e.Path)
	}
	if want := []string{"pin.max_length", "pin.retry_count"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
}

func TestEvaluateEmptyUser(t *testing.T) {
	list := scriptErrors(t, mustFail(Evaluate(context.Background(), DefaultScript, User{}, testEnv)))
	if list[0].Path != "properties.user_id" || !strings.Contains(list[0].Message, "empty for this user") {
		t.Errorf("first error = %+v, want properties.user_id empty", list[0])
	}
}

func mustFail(_ *cardspec.Options, err error) error { return err }

func TestEvaluateLimits(t *testing.T) {
	loop := "def options(user, env):\n    n = 0\n    for i in range(1000000000):\n        n += i\n    return {}\n"
	t.Run("error/time limit", func(t *testing.T) {
		start := time.Now()
		_, err := Limits{Steps: 1 << 62, Time: 50 * time.Millisecond}.Evaluate(context.Background(), loop, Sample(), testEnv)
		list := scriptErrors(t, err)
		// The loop is lines 3 and 4; where the limit interrupts it depends on timing.
		if want := "the script ran too long: more than 50ms"; list[0].Message != want || (list[0].Line != 3 && list[0].Line != 4) {
			t.Errorf("error = %v, want %q in the loop (line 3 or 4)", list[0], want)
		}
		// Unbounded, the loop runs for minutes: finishing at all shows the limit works.
		if elapsed := time.Since(start); elapsed > 20*time.Second {
			t.Errorf("took %v; the time limit did not stop the script", elapsed)
		}
	})
	t.Run("error/context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := Limits{Steps: 1 << 62}.Evaluate(ctx, loop, Sample(), testEnv)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("error/step limit", func(t *testing.T) {
		_, err := Limits{Steps: 1000}.Evaluate(context.Background(), loop, Sample(), testEnv)
		if list := scriptErrors(t, err); list[0].Message != "the script ran too long: more than 1000 steps" {
			t.Errorf("message = %q", list[0].Message)
		}
	})
	t.Run("error/source too long", func(t *testing.T) {
		_, err := Evaluate(context.Background(), DefaultScript+strings.Repeat("#", MaxSourceSize), Sample(), testEnv)
		if list := scriptErrors(t, err); !strings.Contains(list[0].Message, "the script is too long") {
			t.Errorf("message = %q", list[0].Message)
		}
	})
}

func TestValidate(t *testing.T) {
	opts, problems := Validate(context.Background(), DefaultScript, Sample(), testEnv)
	if problems != nil || opts == nil {
		t.Fatalf("Validate(default) = %v, %v", opts, problems)
	}
	_, problems = Validate(context.Background(), edit(t, "PIN_MAX_LENGTH = 8", "PIN_MAX_LENGTH = 12"), Sample(), testEnv)
	if len(problems) != 1 || problems[0].Path != "pin.max_length" {
		t.Errorf("Validate(max length 12) = %v, want one problem at pin.max_length", problems)
	}
}

func BenchmarkEvaluateDefault(b *testing.B) {
	ctx, u := context.Background(), Sample()
	for b.Loop() {
		if _, err := Evaluate(ctx, DefaultScript, u, testEnv); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCompiledScriptIsReusable: one compiled script evaluates for many users at once, each
// from fresh globals, exactly as evaluating the source each time would.
func TestCompiledScriptIsReusable(t *testing.T) {
	ctx := context.Background()
	script, err := Compile(DefaultScript)
	if err != nil {
		t.Fatal(err)
	}
	users := make([]User, 8)
	for i := range users {
		users[i] = Sample()
		users[i].ID = fmt.Sprintf("user-%d", i)
		users[i].DisplayName = fmt.Sprintf("User %d", i)
	}
	got := make([]*cardspec.Options, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			got[i], _ = Limits{}.EvaluateScript(ctx, script, u, testEnv)
		})
	}
	wg.Wait()
	for i, u := range users {
		want, err := Evaluate(ctx, DefaultScript, u, testEnv)
		if err != nil {
			t.Fatal(err)
		}
		if got[i] == nil || !reflect.DeepEqual(got[i], want) {
			t.Errorf("user %d: compiled script gave %+v, source gave %+v", i, got[i], want)
		}
		if got[i] != nil && got[i].Properties.CommonName != u.DisplayName {
			t.Errorf("user %d: common name %q, want %q", i, got[i].Properties.CommonName, u.DisplayName)
		}
	}
	if _, err := Compile("def options(user, env):\n  return {"); err == nil {
		t.Error("Compile accepted a syntax error")
	}
}

// TestBlockListIsAboutCommonPINs checks the default block list holds the PINs people pick most.
func TestBlockListIsAboutCommonPINs(t *testing.T) {
	p := defaults().PIN
	for _, pin := range []string{"123456", "000000", "111111", "12345678", "123123", "654321", "666666", "121212", "112233", "11111111", "123321", "88888888", "87654321", "00000000"} {
		if v := p.Check(pin); len(v) == 0 {
			t.Errorf("Check(%q) accepts it", pin)
		}
		found := false
		for _, b := range p.BlockList {
			found = found || b == pin
		}
		if !found {
			t.Errorf("%q is not on the default block list", pin)
		}
	}
}
