#!/usr/bin/env bash
# Token requests over HTTP to an Express 5 app, through the adapter's two ways of
# reaching the provider: its plain-values entry point and Web Request/Response
# objects. Rounds alternate between the two, so that both see the same noise.
#
#   bash benchmarks/http/express.sh [ROUNDS] [SECONDS]
#
# Needs wrk and a built package (npm run build). Prints requests per second.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds="${1:-3}"
seconds="${2:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() {
  local entry_point="$1" output="$work/origin" pid origin rate
  node benchmarks/http/express-server.mjs "$entry_point" "$work/request.lua" >"$output" &
  pid=$!
  for _ in $(seq 50); do
    [ -s "$output" ] && break
    sleep 0.1
  done
  origin="$(cat "$output")"
  rate="$(wrk -t1 -c8 -d"${seconds}s" -s "$work/request.lua" "$origin/token" | awk '/Requests\/sec/ { print $2 }')"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  printf '%s\t%s\t%s tokens/s\n' "$round" "$entry_point" "$rate"
}

for round in $(seq "$rounds"); do
  run "plain values"
  run "Web handle"
done
