#!/usr/bin/env bash
# Load test of `trustline-cli serve` on 127.0.0.1 with wrk (Debian package
# `wrk`): token requests (client_secret_basic, ES256, SQLite storage), then
# JWKS requests, each for a fixed time. Fails when wrk reports a non-2xx
# response or a socket error, when the server logs a 5xx, or when the server
# does not exit 0 on SIGTERM afterwards.
#
# Usage: tests/cli/load.sh [SECONDS_PER_RUN]   (default 10)
#
# Environment:
#   TRUSTLINE_CLI_BIN   the binary; default the release build under
#                       CARGO_TARGET_DIR (default ~/.cache/trustline/target)
#   LOAD_CONNECTIONS    open connections, default 32
#   LOAD_THREADS        wrk threads, default 2
set -euo pipefail

DURATION="${1:-10}"
CONNECTIONS="${LOAD_CONNECTIONS:-32}"
THREADS="${LOAD_THREADS:-2}"
TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/trustline/target}"
BIN="${TRUSTLINE_CLI_BIN:-$TARGET_DIR/release/trustline-cli}"

[ -x "$BIN" ] || { echo "ERROR: $BIN not found: run 'cargo build -p trustline-cli --release'" >&2; exit 1; }
command -v wrk >/dev/null || { echo "ERROR: wrk not found: run 'apt-get install wrk'" >&2; exit 1; }

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ISSUER="http://127.0.0.1/auth"
COMMON=(--issuer "$ISSUER" --sqlite-path "$WORK/trustline.sqlite")
for name in $(env | grep -o '^TRUSTLINE_CLI_[A-Z_]*' || true); do unset "$name"; done

# The secret stays in this script's variables; it is never printed.
eval "$("$BIN" "${COMMON[@]}" client create --name load-test --scope read:orders)"

"$BIN" "${COMMON[@]}" serve --host 127.0.0.1 --port 0 --log-format json >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVER_PID=$!

address=""
for _ in $(seq 1 100); do
  address="$(grep -o '"address":"[^"]*"' "$WORK/serve.log" 2>/dev/null | head -n 1 | cut -d'"' -f4 || true)"
  [ -n "$address" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; echo "ERROR: serve exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$address" ] || { echo "ERROR: serve did not log its address" >&2; exit 1; }

credentials="$(printf '%s:%s' "$TRUSTLINE_CLIENT_ID" "$TRUSTLINE_CLIENT_SECRET" | base64 -w0)"
cat >"$WORK/token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $credentials"
EOF

failures=0
passes=0

# Runs wrk against one URL and checks its report.
run_wrk() {
  local name="$1" url="$2"
  shift 2
  echo
  echo "==> $name: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency $* $url"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" | tee "$WORK/$name.txt" |
    grep -v -e 'Authorization' || true
  if grep -q -e 'Non-2xx' -e 'Socket errors' "$WORK/$name.txt"; then
    echo "FAIL  $name: wrk reported errors"
    failures=$((failures + 1))
  elif ! grep -q 'Requests/sec' "$WORK/$name.txt"; then
    echo "FAIL  $name: wrk printed no throughput"
    failures=$((failures + 1))
  else
    echo "ok    $name: $(grep 'Requests/sec' "$WORK/$name.txt" | tr -s ' ')"
    passes=$((passes + 1))
  fi
}

run_wrk token "http://$address/auth/token" -s "$WORK/token.lua"
run_wrk jwks "http://$address/auth/.well-known/jwks.json"

kill -TERM "$SERVER_PID"
status=0
wait "$SERVER_PID" || status=$?
SERVER_PID=""

echo
if [ "$status" -eq 0 ]; then
  echo "ok    serve exited 0 after SIGTERM"
  passes=$((passes + 1))
else
  echo "FAIL  serve exited $status after SIGTERM"
  failures=$((failures + 1))
fi

served="$(grep -c '"message":"request"' "$WORK/serve.log" || true)"
server_errors="$(grep -c '"message":"request failed"' "$WORK/serve.log" || true)"
if [ "$server_errors" -eq 0 ] && [ "$served" -gt 0 ]; then
  echo "ok    server logged $served requests and no 5xx"
  passes=$((passes + 1))
else
  echo "FAIL  server logged $served requests and $server_errors with a 5xx"
  failures=$((failures + 1))
fi
if grep -qF "$TRUSTLINE_CLIENT_SECRET" "$WORK/serve.log"; then
  echo "FAIL  the client secret is in the server log"
  failures=$((failures + 1))
else
  echo "ok    the client secret is not in the server log"
  passes=$((passes + 1))
fi

echo
echo "load: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
