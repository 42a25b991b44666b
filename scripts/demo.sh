#!/usr/bin/env bash
# Installs the npm dependencies if needed, builds the package and runs the
# end-to-end demo in examples/demo/demo.mjs. Needs Node.js 20 or later and a
# Rust toolchain installed with rustup. The demo's SQLite database is written
# to .trustline-demo/ in the repository.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

check_toolchains

log "install: npm dependencies"
install_node_modules

log "build: native addon and dist/ (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
build_package

log "demo: node examples/demo/demo.mjs"
node examples/demo/demo.mjs
