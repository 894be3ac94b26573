//go:build !race

package crashtest

// raceBuild: see race_test.go.
const raceBuild = false
