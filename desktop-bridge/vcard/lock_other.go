//go:build !unix

package vcard

import "os"

// lockFile is a no-op where flock is not available; the bridge is the only
// process that opens cards.
func lockFile(*os.File) error { return nil }
