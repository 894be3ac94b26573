#!/usr/bin/env bash
# Runs every fuzz target for a short time (default 10s each): the decoders of
# untrusted input (webhooks, WHMCS answers) and the request-path rules.
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-10s}"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "fuzz $pkg $target ($budget)"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" "$pkg"
	done
done
