#!/usr/bin/env bash
# Load comparison of whmcs_auth against a bare reverse_proxy and basic_auth.
#
# Builds Caddy with the module, starts a tiny upstream and the WHMCS simulator
# on 127.0.0.1, then runs wrk against three sites in turn, each served by its
# own fresh caddy process on the same upstream:
#   (a) reverse_proxy only
#   (b) whmcs_auth + reverse_proxy, with a session cookie from a real JSON login
#   (c) basic_auth (bcrypt, Caddy's default hash cache) + reverse_proxy
#   (d) reverse_proxy adding, as static request_header lines, the very
#       identity headers that (b) sent: what carrying them costs without the
#       module, so (b) vs (d) is the module's own work
# and prints requests/s, p50 and p99 latency, the ratio to (a), and the RSS
# of caddy for (b). Everything listens on 127.0.0.1 and every process it
# starts is stopped on exit.
#
# Usage: bash bench/load.sh          (from anywhere inside the repository)
# Tunables (environment):
#   WRK_THREADS=2 WRK_CONNS=32 WRK_DURATION=10s   the measured run of each site
#   WRK_WARMUP=2s                                 an unmeasured run before it
#   CPUS_CADDY= CPUS_WRK=                         taskset CPU lists (e.g. 0 and 1), empty = no pinning
#   KEEP_WORKDIR=1                                keep the temp dir (Caddyfiles, logs)
set -euo pipefail

WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-32}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_WARMUP=${WRK_WARMUP:-2s}
CPUS_CADDY=${CPUS_CADDY:-}
CPUS_WRK=${CPUS_WRK:-}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/whmcs-load.XXXXXX")
pids=()

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "${KEEP_WORKDIR:-}" = 1 ]; then
		echo "work dir kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "load.sh: $*" >&2; exit 1; }

need_wrk() {
	command -v wrk >/dev/null 2>&1 && return
	echo "installing wrk (apt-get)..."
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
	command -v wrk >/dev/null 2>&1 || die "wrk is still missing after apt-get install"
}

# Command prefixes that pin caddy and wrk to CPUs when asked to. They are
# prefixes rather than a wrapper function so that "$!" of a background caddy
# is caddy itself, which the cleanup then stops.
pin_caddy=()
[ -z "$CPUS_CADDY" ] || pin_caddy=(taskset -c "$CPUS_CADDY")
pin_wrk=()
[ -z "$CPUS_WRK" ] || pin_wrk=(taskset -c "$CPUS_WRK")

# wait_line FILE PATTERN: waits up to 20 s for a line matching PATTERN.
wait_line() {
	local i
	for i in $(seq 200); do
		grep -q "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	die "timed out waiting for '$1' in $2: $(cat "$2" 2>/dev/null)"
}

free_port() {
	python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

command -v go >/dev/null 2>&1 || die "go is required"
command -v curl >/dev/null 2>&1 || die "curl is required"
need_wrk

echo "building into $work ..."
(cd "$repo" && go build -o "$work/caddy" ./cmd/caddy && go build -o "$work/upstream" ./bench/upstream &&
	go build -o "$work/whmcsstub" ./bench/whmcsstub)

# Caddy keeps its data and config under these; keep them out of $HOME.
export XDG_DATA_HOME="$work/xdg-data" XDG_CONFIG_HOME="$work/xdg-config"

"$work/upstream" -addr 127.0.0.1:0 -capture "$work/identity.txt" >"$work/upstream.out" 2>&1 &
pids+=($!)
wait_line 'upstream: listening' "$work/upstream.out"
upstream=$(sed -n 's/^upstream: listening //p' "$work/upstream.out")

"$work/whmcsstub" >"$work/whmcs.env" 2>"$work/whmcs.err" &
pids+=($!)
wait_line '^BENCH_PASSWORD=' "$work/whmcs.env"
# shellcheck disable=SC1091
. "$work/whmcs.env"

port=$(free_port)
site="http://127.0.0.1:$port"
global="{
	admin off
	auto_https off
	persist_config off
	storage file_system $work/caddy-storage
	log {
		level ERROR
	}
}"

cat >"$work/a.Caddyfile" <<EOF
$global
$site {
	bind 127.0.0.1
	reverse_proxy $upstream
}
EOF

cat >"$work/b.Caddyfile" <<EOF
$global
$site {
	bind 127.0.0.1
	whmcs_auth {
		api_url $WHMCS_API_URL
		api_identifier $WHMCS_API_IDENTIFIER
		api_secret $WHMCS_API_SECRET
		state $work/state.db
		plan 1 Basico
	}
	reverse_proxy $upstream
}
EOF

bench_user=bench
bench_pass=bench-basic-password
hash=$("$work/caddy" hash-password --plaintext "$bench_pass")
cat >"$work/c.Caddyfile" <<EOF
$global
$site {
	bind 127.0.0.1
	basic_auth {
		$bench_user $hash
	}
	reverse_proxy $upstream
}
EOF

caddy_pid=
start_caddy() {
	"${pin_caddy[@]}" "$work/caddy" run --config "$work/$1.Caddyfile" --adapter caddyfile >"$work/$1.log" 2>&1 &
	caddy_pid=$!
	pids+=("$caddy_pid")
	local i
	for i in $(seq 200); do
		curl -s -o /dev/null "$site/" && return 0
		kill -0 "$caddy_pid" 2>/dev/null || die "caddy ($1) exited: $(tail -5 "$work/$1.log")"
		sleep 0.1
	done
	die "caddy ($1) did not start: $(tail -5 "$work/$1.log")"
}

stop_caddy() {
	kill "$caddy_pid" 2>/dev/null || true
	wait "$caddy_pid" 2>/dev/null || true
	caddy_pid=
	# The next site reuses the port: make sure nothing answers on it.
	local i
	for i in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "$site/" || return 0
		sleep 0.1
	done
	die "something still answers on $site after stopping caddy"
}

# run_wrk NAME HEADER...: warm-up, then the measured run into $work/NAME.wrk.
run_wrk() {
	local name=$1
	shift
	local args=(-t "$WRK_THREADS" -c "$WRK_CONNS")
	local h
	for h in "$@"; do
		args+=(-H "$h")
	done
	"${pin_wrk[@]}" wrk "${args[@]}" -d "$WRK_WARMUP" "$site/backend/tickets" >/dev/null
	"${pin_wrk[@]}" wrk "${args[@]}" -d "$WRK_DURATION" --latency "$site/backend/tickets" >"$work/$name.wrk"
	if grep -q "Non-2xx or 3xx responses" "$work/$name.wrk"; then
		cat "$work/$name.wrk" >&2
		die "($name) answered errors under load"
	fi
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# (a) bare reverse_proxy
start_caddy a
run_wrk a
stop_caddy

# (b) whmcs_auth: sign in once with the JSON login, then send the cookie.
start_caddy b
code=$(curl -s -o /dev/null -w '%{http_code}' "$site/backend/tickets")
[ "$code" = 401 ] || die "(b) without a session answered $code, want 401"
login_headers=$(curl -s -D - -o "$work/login.json" -H 'Content-Type: application/json' \
	--data "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" "$site/sso/login")
cookie=$(printf '%s\n' "$login_headers" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-rcchat_sso=[^;]*\).*/\1/p' | head -1)
[ -n "$cookie" ] || die "(b) JSON login gave no session cookie: $login_headers $(cat "$work/login.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$site/backend/tickets")
[ "$code" = 200 ] || die "(b) with the session answered $code, want 200"
rss_before=$(rss_kb "$caddy_pid")
run_wrk b "Cookie: $cookie"
rss_after=$(rss_kb "$caddy_pid")
hwm=$(hwm_kb "$caddy_pid")
stop_caddy

# (c) basic_auth
start_caddy c
basic=$(printf '%s:%s' "$bench_user" "$bench_pass" | base64 | tr -d '\n')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $basic" "$site/backend/tickets")
[ "$code" = 200 ] || die "(c) with credentials answered $code, want 200"
run_wrk c "Authorization: Basic $basic"
stop_caddy

# (d) reverse_proxy with (b)'s identity headers as static values
[ -s "$work/identity.txt" ] || die "the upstream captured no identity headers during (b)"
{
	echo "$global"
	echo "$site {"
	echo "	bind 127.0.0.1"
	while read -r name value; do
		printf '\trequest_header %s "%s"\n' "$name" "$value"
	done <"$work/identity.txt"
	echo "	reverse_proxy $upstream"
	echo "}"
} >"$work/d.Caddyfile"
start_caddy d
run_wrk d
stop_caddy

# wrk prints latencies as 812.00us, 1.23ms or 1.01s; report milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
		printf "%.2f", n
	}'
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$work/$1.wrk"; }
pct() { to_ms "$(awk -v p="$2%" '$1 == p {print $2}' "$work/$1.wrk")"; }

a_rps=$(rps a)
echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency (after a $WRK_WARMUP warm-up), GET /backend/tickets"
printf '%-28s %12s %10s %10s %10s\n' site 'requests/s' 'p50 ms' 'p99 ms' 'vs (a)'
for s in a b c d; do
	case $s in
	a) label='(a) reverse_proxy' ;;
	b) label='(b) whmcs_auth (session)' ;;
	c) label='(c) basic_auth (bcrypt)' ;;
	d) label='(d) (a) + static identity' ;;
	esac
	printf '%-28s %12s %10s %10s %10s\n' "$label" "$(rps $s)" "$(pct $s 50)" "$(pct $s 99)" \
		"$(awk -v x="$(rps $s)" -v a="$a_rps" 'BEGIN {printf "%.3f", x / a}')"
done
echo "(b) vs (d), the module's own share: $(awk -v b="$(rps b)" -v d="$(rps d)" 'BEGIN {printf "%.3f", b / d}')"
echo "caddy RSS for (b): ${rss_before} kB after sign-in, ${rss_after} kB after the run (peak ${hwm} kB)"
