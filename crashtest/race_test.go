//go:build race

package crashtest

// raceBuild makes a race-enabled test run build a race-enabled binary: it
// reuses the race build cache of the other packages, and the storms below
// then look for data races in the real process too.
const raceBuild = true
