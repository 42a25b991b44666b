#!/usr/bin/env bash
# Runs every test of the repository, in this order:
#   install   npm ci, unless node_modules already matches package-lock.json
#   build     npm run build: the native addon (release) and dist/
#   databases scripts/databases.sh: PostgreSQL and MariaDB on 127.0.0.1,
#             installed from Debian packages if missing (needs root then)
#   rust      cargo test --workspace --locked
#   node      node --test --test-reporter=spec tests/node/
#   frameworks node --test --test-reporter=spec tests/frameworks/: Express,
#             Fastify and Hono adapters, examples, a project without frameworks
#   storage   node --test --test-reporter=spec tests/storage/: the storage
#             suite on every backend, two provider processes, an outage
#   bun       bun test tests/bun/, with the Bun binary from the `bun` npm package
#   demo      node examples/demo/demo.mjs
#   cli       tests/cli/run.sh: trustline-cli serve driven by the Node client
#             and guard, and a 5-second wrk load test per endpoint (the CLI's
#             admin commands run in the rust stage)
#   python    pip install . into a virtualenv under TRUSTLINE_CACHE_DIR, then
#             pytest tests/python tests/cross-language (needs Python 3.9+)
#   bench     benchmarks/node/run.mjs --smoke: every benchmark scenario, briefly,
#             so that the suite keeps working (scripts/bench.sh measures for real)
#
# Stops at the first stage that fails, names it, and exits with its status.
# The Rust build and the npm cache are kept outside the clone (see
# scripts/lib.sh), so a second run only rebuilds what changed.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

STAGE_NAMES=()
STAGE_RESULTS=()
RUN_START=$SECONDS

print_summary() {
  echo
  echo "==> Summary"
  local i
  for i in "${!STAGE_NAMES[@]}"; do
    printf '    %-8s %s\n' "${STAGE_NAMES[$i]}" "${STAGE_RESULTS[$i]}"
  done
  printf '    total    %ss\n' "$((SECONDS - RUN_START))"
}

# Runs one stage: `stage NAME COMMAND...`. On failure, prints the summary
# and exits with the command's status.
stage() {
  local name="$1"
  shift
  log "$name: $*"

  local started=$SECONDS status=0
  "$@" || status=$?
  local elapsed=$((SECONDS - started))

  STAGE_NAMES+=("$name")
  if [ "$status" -eq 0 ]; then
    STAGE_RESULTS+=("passed (${elapsed}s)")
    return 0
  fi

  STAGE_RESULTS+=("FAILED with exit status $status (${elapsed}s)")
  print_summary
  printf '\nERROR: stage "%s" failed: %s\n' "$name" "$*" >&2
  exit "$status"
}

# Starts the test databases and exports their URLs (TRUSTLINE_TEST_POSTGRES_URL,
# TRUSTLINE_TEST_MYSQL_URL) to the stages after it. With
# TRUSTLINE_TEST_REQUIRE_DATABASES=1 the storage tests fail instead of
# skipping when a URL is missing.
start_databases() {
  local exports
  exports="$(bash "$REPO_ROOT/scripts/databases.sh" start)" || return
  eval "$exports"
  echo "$exports"
  export TRUSTLINE_TEST_REQUIRE_DATABASES=1
}

# Installs the Python package from this checkout (pip install ., which builds
# the extension with maturin) and the test dependencies into a virtualenv
# outside the clone, then runs pytest. Set TRUSTLINE_PYTHON to choose the
# interpreter (default python3). pytest's exit status 5, no test collected,
# fails the stage like any other failure.
python_tests() {
  local python="${TRUSTLINE_PYTHON:-python3}"
  local venv="$TRUSTLINE_CACHE_DIR/python-venv"
  command -v "$python" >/dev/null 2>&1 || {
    echo "$python is not on PATH: install Python 3.9 or later, or set TRUSTLINE_PYTHON" >&2
    return 1
  }
  export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$TRUSTLINE_CACHE_DIR/pip}"
  export PIP_DISABLE_PIP_VERSION_CHECK=1

  if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || return
  fi
  "$venv/bin/python" -m pip install --quiet -r tests/python/requirements.txt || return
  # --force-reinstall: the version stays 0.2.0 while the sources change.
  "$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps . || return

  local status=0
  "$venv/bin/python" -m pytest tests/python tests/cross-language -p no:cacheprovider || status=$?
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests in tests/python and tests/cross-language" >&2
    return 1
  fi
  return "$status"
}

check_toolchains
echo "node $(node --version), npm $(npm --version), $(cargo --version)"
echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
echo "npm_config_cache=$npm_config_cache"

stage install install_node_modules
stage build build_package
stage databases start_databases
stage rust cargo test --workspace --locked
stage node node --test --test-reporter=spec tests/node/
stage frameworks node --test --test-reporter=spec tests/frameworks/
stage storage node --test --test-reporter=spec tests/storage/
stage bun "$REPO_ROOT/node_modules/.bin/bun" test ./tests/bun/
stage demo node examples/demo/demo.mjs
stage cli bash tests/cli/run.sh
stage python python_tests
stage bench node --expose-gc benchmarks/node/run.mjs --smoke --out "$(mktemp -d)/benchmark-smoke.json"

print_summary
echo
echo "All test stages passed."
