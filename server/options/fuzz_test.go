package options

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

// seedScripts returns the scripts in testdata/scripts by file name.
func seedScripts(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "scripts", "*.star"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed scripts: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

func TestSeedScripts(t *testing.T) {
	scripts := seedScripts(t)
	t.Run("ok/computed", func(t *testing.T) {
		admin := Sample()
		admin.Roles = []string{"admin"}
		opts, err := Evaluate(context.Background(), scripts["computed.star"], admin, testEnv)
		if err != nil {
			t.Fatal(err)
		}
		if opts.PIN.MinLength != 8 || opts.Certificates[0].Algorithm != cardspec.ECCP384 || opts.Validity.Days() != 180 ||
			opts.Properties.Extra["login"] != "jane.doe" || opts.Properties.Extra["department"] != "Engineering" ||
			opts.PIN.BlockList[1] != "111111" {
			t.Errorf("unexpected options %+v", opts)
		}
	})
	for name, want := range map[string]string{
		"loop.star":   "the script ran too long",
		"memory.star": "the script uses too much memory",
		"shared.star": "cannot be compared or used as a key",
		"syntax.star": "want ':'",
	} {
		t.Run("error/"+strings.TrimSuffix(name, ".star"), func(t *testing.T) {
			_, err := Evaluate(context.Background(), scripts[name], Sample(), testEnv)
			if list := scriptErrors(t, err); !strings.Contains(list[0].Message, want) {
				t.Errorf("message = %q, want it to contain %q", list[0].Message, want)
			}
		})
	}
	t.Run("error/wrong types", func(t *testing.T) {
		_, err := Evaluate(context.Background(), scripts["wrong_types.star"], Sample(), testEnv)
		list := scriptErrors(t, err)
		paths := map[string]bool{}
		for _, e := range list {
			paths[e.Path] = true
			if e.Line == 0 {
				t.Errorf("%v has no position", e)
			}
		}
		for _, p := range []string{
			"pin.min_length", "pin.max_length", "pin.upper_case", "pin.lower_case", "pin.digits",
			"pin.max_repeated", "pin.max_sequential", "pin.retry_count", "pin.block_list",
			"certificates.AUTHENTICATION", "certificates.PIV", "certificates.SIGNATURE",
			"validity", "properties.user_id", "properties.common_name", "properties.Bad Name",
		} {
			if !paths[p] {
				t.Errorf("no error for %s in %v", p, list)
			}
		}
	})
}

// FuzzEvaluate checks that no script panics the evaluator or runs past its limits, and that
// whatever it accepts is within range.
func FuzzEvaluate(f *testing.F) {
	f.Add(DefaultScript)
	for _, s := range seedScripts(f) {
		f.Add(s)
	}
	limits := Limits{Steps: 100_000, Time: 200 * time.Millisecond, Bytes: 8 << 20}
	f.Fuzz(func(t *testing.T, source string) {
		start := time.Now()
		opts, err := limits.Evaluate(context.Background(), source, Sample(), testEnv)
		// The grace period and a loaded machine may add to the time limit, nothing else.
		if elapsed := time.Since(start); elapsed > limits.Time+cancelGrace+slowdown*time.Second {
			t.Fatalf("evaluation took %v", elapsed)
		}
		if err != nil {
			if code := errs.CodeOf(err); code != errs.ScriptError {
				t.Fatalf("code = %s, want %s: %v", code, errs.ScriptError, err)
			}
			list := scriptErrors(t, err)
			for _, e := range list {
				if e.Message == "" || e.Line < 0 || e.Column < 0 {
					t.Fatalf("malformed script error %+v", e)
				}
			}
			return
		}
		p := opts.PIN
		if p.MinLength < cardspec.MinPINLength || p.MaxLength > cardspec.MaxPINLength || p.MinLength > p.MaxLength ||
			p.RetryCount < 1 || p.RetryCount > cardspec.MaxRetryCount || len(opts.Certificates) == 0 ||
			opts.Validity.Days() < 1 || opts.Validity.Days() > cardspec.MaxValidityDays || opts.Properties.UserID == "" {
			t.Fatalf("accepted out-of-range options %+v", opts)
		}
	})
}
