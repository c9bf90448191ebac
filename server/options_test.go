package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/servertest"
)

const qClaimOptions = `mutation($id: ID!, $token: String!) { claimOrder(orderId: $id, token: $token) {
	card { validUntil pinPolicy { minLength retryCount } certificates { template slot algorithm } properties { profileName } } } }`

// TestOptionScriptShapesOrders: an administrator's edit changes what the next order gets,
// while an order already running keeps the options it started with.
func TestOptionScriptShapesOrders(t *testing.T) {
	env := servertest.Start(t, generous)
	admin := env.SignIn(t, servertest.Admin)
	alice := env.SignIn(t, servertest.Alice)
	carol := env.SignIn(t, servertest.Carol)

	running := start(t, env, carol) // started under the default script

	src := options.DefaultScript
	for _, r := range [][2]string{
		{"PIN_MIN_LENGTH = 6", "PIN_MIN_LENGTH = 8"},
		{"PIN_RETRY_COUNT = 3", "PIN_RETRY_COUNT = 5"},
		{"ENCRYPTION: None,", "ENCRYPTION: RSA2048,"},
		{`VALIDITY = {"years": 2}`, `VALIDITY = {"days": 30}`},
		{`"profile_name": "Virtual smart card " + user.email,`, `"profile_name": "Card of " + user.username,`},
	} {
		if !strings.Contains(src, r[0]) {
			t.Fatalf("default script no longer contains %q", r[0])
		}
		src = strings.Replace(src, r[0], r[1], 1)
	}
	var saved struct {
		UpdateOptionScript struct{ Current struct{ Version int } }
	}
	admin.MustDo(t, `mutation($s: String!) { updateOptionScript(source: $s, comment: "stricter") { current { version } } }`,
		map[string]any{"s": src}, &saved)
	if saved.UpdateOptionScript.Current.Version != 2 {
		t.Fatalf("saved as version %d, want 2", saved.UpdateOptionScript.Current.Version)
	}

	type setup struct {
		ClaimOrder struct {
			Card struct {
				ValidUntil   time.Time
				PinPolicy    struct{ MinLength, RetryCount int }
				Certificates []struct{ Template, Slot, Algorithm string }
				Properties   struct{ ProfileName string }
			}
		}
	}
	claim := func(o *order) setup {
		o.next()
		var out setup
		env.Anonymous().MustDo(t, qClaimOptions, map[string]any{"id": o.id, "token": o.token}, &out)
		return out
	}

	got := claim(start(t, env, alice)).ClaimOrder.Card
	if got.PinPolicy.MinLength != 8 || got.PinPolicy.RetryCount != 5 {
		t.Errorf("PIN policy %+v, want min 8 and 5 retries", got.PinPolicy)
	}
	if len(got.Certificates) != 3 || got.Certificates[2].Template != "ENCRYPTION" || got.Certificates[2].Algorithm != "RSA2048" || got.Certificates[2].Slot != "9D" {
		t.Errorf("certificates %+v, want an RSA-2048 encryption certificate in 9D as the third", got.Certificates)
	}
	if d := time.Until(got.ValidUntil); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("card valid until %s, want in 30 days", got.ValidUntil)
	}
	if got.Properties.ProfileName != "Card of alice" {
		t.Errorf("profile name %q", got.Properties.ProfileName)
	}

	old := claim(running).ClaimOrder.Card
	if old.PinPolicy.MinLength != 6 || len(old.Certificates) != 2 {
		t.Errorf("the running order changed with the script: %+v", old)
	}

	// Revert: the next order is back to the defaults.
	admin.MustDo(t, `mutation { revertOptionScript(version: 1) { current { version } } }`, nil, nil)
	alice.MustDo(t, qCancel, map[string]any{"id": mustRunning(t, alice)}, nil)
	back := claim(start(t, env, alice)).ClaimOrder.Card
	if back.PinPolicy.MinLength != 6 || len(back.Certificates) != 2 {
		t.Errorf("after revert: %+v, want the defaults", back)
	}
}

// TestScriptFailingForAUser: a script that saves fine but fails for one user's attributes
// fails that user's start with SCRIPT_ERROR and leaves nothing behind.
func TestScriptFailingForAUser(t *testing.T) {
	env := servertest.Start(t)
	admin := env.SignIn(t, servertest.Admin)
	alice := env.SignIn(t, servertest.Alice)
	src := strings.Replace(options.DefaultScript, "def options(user, env):\n",
		"def options(user, env):\n    if user.attributes.get(\"employee_id\") == \"1001\":\n        fail(\"engineering cards come from the lab\")\n", 1)
	admin.MustDo(t, `mutation($s: String!) { updateOptionScript(source: $s) { name } }`, map[string]any{"s": src}, nil)

	err := alice.Do(context.Background(), qStart, nil, nil)
	if codeOf(err) != "SCRIPT_ERROR" {
		t.Fatalf("start: %v, want SCRIPT_ERROR", err)
	}
	var out struct{ Orders struct{ TotalCount int } }
	alice.MustDo(t, `{ orders { totalCount } }`, nil, &out)
	if out.Orders.TotalCount != 0 {
		t.Errorf("a failed start left %d orders", out.Orders.TotalCount)
	}
	// The administrator sees why, with the line, by validating for that user.
	var me struct{ Me struct{ ID string } }
	alice.MustDo(t, `{ me { id } }`, nil, &me)
	var v struct {
		ValidateOptionScript struct {
			Ok     bool
			Errors []struct {
				Line    int
				Message string
			}
		}
	}
	admin.MustDo(t, `query($s: String!, $u: ID) { validateOptionScript(source: $s, userId: $u) { ok errors { line message } } }`,
		map[string]any{"s": src, "u": me.Me.ID}, &v)
	if v.ValidateOptionScript.Ok || len(v.ValidateOptionScript.Errors) == 0 ||
		v.ValidateOptionScript.Errors[0].Line == 0 || !strings.Contains(v.ValidateOptionScript.Errors[0].Message, "engineering cards") {
		t.Errorf("validation for alice: %+v", v.ValidateOptionScript)
	}
}

func mustRunning(t *testing.T, c *servertest.Client) string {
	t.Helper()
	var out struct {
		Processes []struct{ RunningOrder *struct{ ID string } }
	}
	c.MustDo(t, `{ processes { runningOrder { id } } }`, nil, &out)
	if out.Processes[0].RunningOrder == nil {
		t.Fatal("no running order")
	}
	return out.Processes[0].RunningOrder.ID
}
