#!/usr/bin/env bash
# The trustline-cli stage of scripts/test.sh, after the Rust stage has run the
# CLI's own tests (every command on SQLite, PostgreSQL and MariaDB):
#   1. builds the release binary,
#   2. runs tests/cli/*.test.mjs: serve driven by the npm package's client and
#      guard (needs `npm run build` first),
#   3. runs tests/cli/load.sh for LOAD_SECONDS (default 5) per endpoint.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-${HOME:-/root}/.cache/trustline/target}"
export TRUSTLINE_CLI_BIN="${TRUSTLINE_CLI_BIN:-$TARGET_DIR/release/trustline-cli}"

cargo build --release --locked -p trustline-cli
node --test --test-reporter=spec tests/cli/
bash tests/cli/load.sh "${LOAD_SECONDS:-5}"
