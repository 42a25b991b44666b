# Shared setup for scripts/test.sh and scripts/demo.sh, to be sourced, not run.
#
# Sets the cache locations, checks the toolchains, and provides
# `install_node_modules` and `build_package`. Caches live outside the clone,
# under TRUSTLINE_CACHE_DIR (default ~/.cache/trustline), so that a fresh
# clone reuses the Rust build and the npm download cache of earlier runs.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUSTLINE_CACHE_DIR="${TRUSTLINE_CACHE_DIR:-${HOME:-/root}/.cache/trustline}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$TRUSTLINE_CACHE_DIR/target}"
export npm_config_cache="${npm_config_cache:-$TRUSTLINE_CACHE_DIR/npm}"
export npm_config_audit=false
export npm_config_fund=false
export npm_config_update_notifier=false

# rustup installs cargo under ~/.cargo/bin, which a non-login shell may not
# have on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -f "${HOME:-/root}/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "${HOME:-/root}/.cargo/env"
fi

log() {
  printf '\n==> %s\n' "$*"
}

die() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}

# Fails with an explanation unless node >= 20, npm and cargo are on PATH.
check_toolchains() {
  command -v node >/dev/null 2>&1 || die "node is not on PATH: install Node.js 20 or later."
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH: install it with Node.js 20 or later."
  command -v cargo >/dev/null 2>&1 ||
    die "cargo is not on PATH and ~/.cargo/env was not found: install Rust with rustup."

  local node_major
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$node_major" -lt 20 ]; then
    die "Node.js $(node --version) is too old: trustline needs Node.js 20 or later."
  fi
}

# Runs `npm ci` unless node_modules was installed from the current
# package-lock.json. The lockfile's hash is stored in node_modules after a
# successful install, so an edited lockfile or a half-finished install
# triggers a new one.
install_node_modules() {
  local stamp="$REPO_ROOT/node_modules/.trustline-lock-sha256"
  local lock_hash
  lock_hash="$(sha256sum "$REPO_ROOT/package-lock.json" | cut -d' ' -f1)"

  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ]; then
    echo "node_modules matches package-lock.json; skipping npm ci"
    return 0
  fi

  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund) || return
  echo "$lock_hash" >"$stamp"
}

# Builds the native addon (release) and the JavaScript package into dist/.
build_package() {
  (cd "$REPO_ROOT" && npm run build)
}
