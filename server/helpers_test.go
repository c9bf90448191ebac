package server_test

import (
	"context"
	"crypto/elliptic"

	"github.com/vscard/vscard/server/viewer"
)

func p256() elliptic.Curve { return elliptic.P256() }
func p384() elliptic.Curve { return elliptic.P384() }

func systemCtx() context.Context { return viewer.SystemContext(context.Background()) }
