#!/usr/bin/env bash
# Runs every fuzz target for a short time (default 10s each): the decoders of
# untrusted input (webhooks, WHMCS answers) and the request-path rules.
#
# A run that fails without a failing input (Go's fuzz coordinator sometimes
# ends a timed run with "context deadline exceeded") is run once more; a real
# finding always writes its input under testdata/fuzz and fails at once.
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-10s}"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		for attempt in 1 2; do
			echo "fuzz $pkg $target ($budget)"
			if out=$(go test -run='^$' -fuzz="^${target}\$" -fuzztime="$budget" "$pkg" 2>&1); then
				echo "$out" | tail -1
				break
			fi
			echo "$out"
			if echo "$out" | grep -q "Failing input written" || [ "$attempt" = 2 ]; then
				exit 1
			fi
			echo "fuzz run ended without a failing input; running it again"
		done
	done
done
