package server_test

import (
	"net/url"
	"testing"

	"context"
	"crypto/elliptic"

	"github.com/vscard/vscard/server/viewer"
)

func p256() elliptic.Curve { return elliptic.P256() }
func p384() elliptic.Curve { return elliptic.P384() }

func systemCtx() context.Context { return viewer.AsServer(context.Background()) }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustParse(s string) (*url.URL, error) { return url.Parse(s) }
