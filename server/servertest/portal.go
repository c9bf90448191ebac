package servertest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// PortalToken gets an access token for the development provider's demo portal client with
// the client credentials grant, as a third-party portal would.
func (e *Env) PortalToken(tb testing.TB, scope string) string {
	tb.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/dev/idp/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-portal", "demo-portal-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("request portal token: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		tb.Fatalf("portal token: status %d, error %q, %v", resp.StatusCode, out.Error, err)
	}
	return out.AccessToken
}
