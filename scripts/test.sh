#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine: installs what the tests
# drive for real (headless Chromium for the login page, php-cli for the WHMCS
# hook file) and gcc (the race detector needs cgo) when missing, then runs
# every Go test with the race detector. The integration suite listens on
# 127.0.0.1:9080 and the admin port 2999: keep them free.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v php >/dev/null 2>&1 || need+=(php-cli)
php -m 2>/dev/null | grep -qx curl || need+=(php-curl)
if [ ${#need[@]} -gt 0 ]; then
	echo "scripts/test.sh: installing ${need[*]}"
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi

# -p 2: the integration packages each start a real Caddy; two at a time fit
# the 2-core machines this runs on.
go test -race -count=1 -p 2 -timeout 20m ./... "$@"
