//go:build race

package gate

// raceEnabled relaxes the zero-allocation assertions: the race detector's
// instrumentation may allocate on its own.
const raceEnabled = true
