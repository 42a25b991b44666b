/**
 * Loads the napi-rs addon on first use, so that importing the package (for
 * types or `AuthError`) never touches the native file.
 *
 * The addon is looked up in this order:
 * 1. `NAPI_RS_NATIVE_LIBRARY_PATH`, the override that napi-rs loaders honour;
 * 2. `bindings/node/native/trustline.<platform>.node` in the package root,
 *    where `npm run build:native` writes it (for example
 *    `trustline.linux-x64-gnu.node`).
 */

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { NativeBinding } from "./native-types.js";

const PACKAGE_NAME = "trustline";
const BINARY_NAME = "trustline";
const NATIVE_DIR = join("bindings", "node", "native");

// The CommonJS build has `__filename` and the ESM build has `import.meta.url`.
// The CommonJS build's shim of `import.meta.url` would break on paths that
// contain `#` or `%`, so it is not used there.
const moduleFile = typeof __filename === "string" ? __filename : fileURLToPath(import.meta.url);
const requireNative = createRequire(moduleFile);

let cachedBinding: { path: string; binding: Partial<NativeBinding> } | undefined;

/**
 * Returns one class of the addon. Throws when the addon is missing, or when it
 * was built from other sources and lacks the class.
 */
export function nativeClass<TName extends keyof NativeBinding>(name: TName): NativeBinding[TName] {
  const { path, binding } = loadBinding();
  const value = binding[name];

  if (typeof value !== "function") {
    throw new Error(
      `the trustline native addon at ${path} does not export ${name}; ` +
        "it is out of date or was built from other sources: rebuild it with `npm run build:native`",
    );
  }
  return value as NativeBinding[TName];
}

function loadBinding(): { path: string; binding: Partial<NativeBinding> } {
  if (cachedBinding) {
    return cachedBinding;
  }

  const path = findBinaryPath();
  cachedBinding = { path, binding: requireNative(path) as Partial<NativeBinding> };
  return cachedBinding;
}

function findBinaryPath(): string {
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (override) {
    return override;
  }

  const root = findPackageRoot();
  const candidates = platformSuffixes().map((suffix) =>
    join(root, NATIVE_DIR, `${BINARY_NAME}.${suffix}.node`),
  );

  const found = candidates.find((candidate) => existsSync(candidate));
  if (found) {
    return found;
  }
  throw new Error(
    `the trustline native addon for ${process.platform}-${process.arch} was not found; ` +
      `looked for ${candidates.join(", ")}. ` +
      "In a checkout of the repository, build it with `npm run build:native`.",
  );
}

/**
 * Finds the directory of trustline's package.json above this module. The
 * bundler may put this code in any file under dist/, so the depth varies.
 */
function findPackageRoot(): string {
  const start = dirname(moduleFile);

  for (let dir = start; ; dir = dirname(dir)) {
    if (isTrustlinePackage(join(dir, "package.json"))) {
      return dir;
    }
    if (dirname(dir) === dir) {
      throw new Error(`no package.json named "${PACKAGE_NAME}" found above ${start}`);
    }
  }
}

function isTrustlinePackage(packageJsonPath: string): boolean {
  if (!existsSync(packageJsonPath)) {
    return false;
  }
  try {
    const manifest = JSON.parse(readFileSync(packageJsonPath, "utf8")) as { name?: unknown };
    return manifest.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** Returns the napi-rs platform suffixes to try, best match first (`linux-x64-gnu`, …). */
function platformSuffixes(): string[] {
  const base = `${process.platform}-${process.arch}`;

  switch (process.platform) {
    case "linux":
      return isMusl() ? [`${base}-musl`, `${base}-gnu`] : [`${base}-gnu`, `${base}-musl`];
    case "win32":
      return [`${base}-msvc`, `${base}-gnu`];
    case "darwin":
      return [base, "darwin-universal"];
    default:
      return [base];
  }
}

/** Detects musl libc the way napi-rs loaders do: glibc reports its version, musl does not. */
function isMusl(): boolean {
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return report?.header !== undefined && !report.header.glibcVersionRuntime;
  } catch {
    return false;
  }
}
