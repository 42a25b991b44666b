// Test fixtures shared by the suites: the storage backends every behaviour is
// run on, a provider served over real HTTP, event recording, waiting and the
// AuthError assertion.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { AuthError, createProvider, memoryStorage } from "trustline";
import { sqliteStorage } from "trustline/adapters/sqlite";

import { startServer } from "./http.mjs";
import { jsStorage } from "./js-storage.mjs";

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "trustline-node-tests-"));
process.on("exit", () => fs.rmSync(tempRoot, { recursive: true, force: true }));

let tempCounter = 0;

/** Returns a fresh path under this test process's temporary directory. */
export function tempPath(name = "trustline.sqlite") {
  tempCounter += 1;
  const dir = path.join(tempRoot, String(tempCounter));
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

/**
 * The storage backends each suite runs on; `create()` returns a new, empty
 * storage. "js" is a user-written StorageAdapter object, which the package
 * must call like its own adapters.
 */
export const storageKinds = [
  { name: "memory", create: () => memoryStorage() },
  { name: "sqlite", create: () => sqliteStorage(tempPath()) },
  { name: "js", create: () => jsStorage() },
];

/**
 * Creates a provider for `storage` and serves it over HTTP on 127.0.0.1.
 * The endpoints are under `${server origin}${path}`, which is also the issuer
 * unless `issuer` is given (as behind a proxy, where the two differ). The rest
 * of `options` goes to `createProvider`. The server closes when test `t` ends.
 *
 * `provider.handle` is passed detached from its object on purpose: users
 * write `Bun.serve({ fetch: provider.handle })`.
 */
export async function startProvider(t, { storage, path: issuerPath = "", issuer: issuerOption, ...options } = {}) {
  const server = await startServer();
  const base = server.origin + issuerPath;
  const issuer = issuerOption ?? base;
  const provider = createProvider({ issuer, storage, ...options });
  const handle = provider.handle;
  server.setHandler((request) => handle(request));
  t.after(() => server.close());

  return {
    provider,
    storage,
    issuer,
    server,
    tokenUrl: `${base}/token`,
    jwksUrl: `${base}/.well-known/jwks.json`,
  };
}

/** Records events from an `onEvent` hook; `waitFor` resolves once a matching event arrived. */
export function eventRecorder() {
  const events = [];
  return {
    events,
    onEvent(event) {
      events.push(event);
    },
    ofType(type) {
      return events.filter((event) => event.type === type);
    },
    async waitFor(type, predicate = () => true, timeoutMs = 2000) {
      await waitUntil(
        () => events.some((event) => event.type === type && predicate(event)),
        timeoutMs,
        `event ${type}; got: ${events.map((event) => event.type).join(", ") || "none"}`,
      );
      return events.find((event) => event.type === type && predicate(event));
    },
  };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sleeps until the wall clock reaches `epochMs`. */
export async function sleepUntil(epochMs) {
  const remaining = epochMs - Date.now();
  if (remaining > 0) await sleep(remaining);
}

/** Polls `condition` every 10 ms until it is true; fails after `timeoutMs`. */
export async function waitUntil(condition, timeoutMs = 2000, description = "condition") {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await sleep(10);
  }
}

/** Asserts that `promise` rejects with an `AuthError` of `code` and `status`. */
export async function assertAuthError(promise, code, status) {
  await assert.rejects(promise, (error) => {
    assert.ok(
      error instanceof AuthError,
      `expected AuthError ${code}, got ${error?.constructor?.name}: ${error?.message}`,
    );
    assert.equal(error.code, code, `code; message: ${error.message}`);
    assert.equal(error.status, status, `status for ${code}`);
    assert.equal(typeof error.message, "string");
    return true;
  });
}

/** Asserts that `value` is a valid Date within `toleranceMs` of `expected` (a Date or epoch ms). */
export function assertDateNear(value, expected, toleranceMs = 5000, label = "date") {
  assert.ok(value instanceof Date, `${label} is a Date, got ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} is a valid Date`);
  const target = expected instanceof Date ? expected.getTime() : expected;
  const delta = Math.abs(value.getTime() - target);
  assert.ok(delta <= toleranceMs, `${label} ${value.toISOString()} is ${delta} ms from ${new Date(target).toISOString()}`);
}
