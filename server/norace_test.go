//go:build !race

package server_test

// raceEnabled reports a build with the race detector, which makes CPU bounds looser.
const raceEnabled = false
