#!/usr/bin/env bash
# Runs every benchmark and writes the results into docs/benchmarks.md.
#
#   bash scripts/bench.sh            three rounds of every scenario (about 10 minutes)
#   bash scripts/bench.sh --smoke    each scenario briefly, results to a temporary file;
#                                    only checks that the suite still runs (used by CI)
#
# The Node scenarios compare against jose, fast-jwt and the raw aws-lc-rs rates in
# the same process and run; the criterion benchmarks time the core alone.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

smoke=false
if [ "${1:-}" = "--smoke" ]; then
  smoke=true
fi

check_toolchains
install_node_modules
build_package

results="$(mktemp -d)/benchmark-results.json"
if $smoke; then
  log "node benchmarks (smoke)"
  node --expose-gc benchmarks/node/run.mjs --smoke --out "$results"
  log "criterion benchmarks compile"
  cargo bench -p trustline --bench core --no-run
  exit 0
fi

log "criterion benchmarks of the core"
cargo bench -p trustline --bench core -- --warm-up-time 1 --measurement-time 5 | tee "$(dirname "$results")/criterion.txt"

log "databases for the PostgreSQL scaling scenario"
eval "$(bash scripts/databases.sh start)"

log "node benchmarks, 3 rounds"
node --expose-gc benchmarks/node/run.mjs --rounds 3 --out "$results"

node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  const data = JSON.parse(fs.readFileSync(file, "utf8"));
  const version = (name) => require(`${name}/package.json`).version;
  data.versions = { trustline: version("trustline"), jose: version("jose"), "fast-jwt": version("fast-jwt"),
    rustc: require("node:child_process").execSync("rustc --version").toString().trim().split(" ")[1] };
  fs.writeFileSync(file, JSON.stringify(data, null, 2));
' "$results"
node benchmarks/node/render.mjs "$results" docs/benchmarks.md

log "criterion (median time per operation)"
grep -E "^[a-z].*time:|^ +time:" -B1 "$(dirname "$results")/criterion.txt" | grep -v "^--" || true
