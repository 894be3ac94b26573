// Package gate holds the request-path rules of the WHMCS auth sidecar that
// every request crosses before anything else happens: removing
// client-forged identity headers and setting the real ones, judging a path
// the way the upstream will see it, matching the operator's public paths,
// vetting post-login redirect targets and telling browser navigations from
// API calls.
//
// Everything here is pure and standard-library only, so the rules can be
// read, tested and fuzzed without Caddy; the Caddy glue decides what to do
// with the answers.
package gate
