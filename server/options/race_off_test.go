//go:build !race

package options

// slowdown scales the time bounds of tests: the race detector makes code about ten times slower.
const slowdown = 1
