// Two provider processes on one PostgreSQL database, as instances behind a
// load balancer. They start together on an empty database and both issue
// tokens. A revocation applies everywhere, and a key rotated on one instance
// is used and published by the other within the key cache time (30 s).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import readline from "node:readline";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import pg from "pg";

import { createGuard } from "trustline";
import { postgresStorage } from "trustline/adapters/postgres";

import { decodeJwt } from "../node/helpers/jwt.mjs";
import { get, issueToken, post } from "../node/helpers/oauth.mjs";
import { POSTGRES_URL, missingServer, postgresBackend } from "./helpers/backends.mjs";

const ISSUER = "https://auth.multi-process.test";
const PROVIDER_SCRIPT = fileURLToPath(new URL("./helpers/provider-process.mjs", import.meta.url));

/** How long a provider may keep using its cached keys (KEY_CACHE_TTL in core/src/provider/keys.rs). */
const KEY_CACHE_SECONDS = 30;

/** Starts a provider process and resolves once it listens, with its origin. */
function startProviderProcess(databaseUrl) {
  const child = spawn(process.execPath, [PROVIDER_SCRIPT], {
    env: { ...process.env, TRUSTLINE_TEST_DATABASE_URL: databaseUrl, TRUSTLINE_TEST_ISSUER: ISSUER },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once("line", (line) => resolve({ child, ...JSON.parse(line) }));
    child.once("exit", (code) => reject(new Error(`provider process exited with code ${code} before it listened`)));
  });
}

function stopProviderProcess({ child }) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
}

async function adminCall(instance, path, body = {}) {
  const response = await post(`${instance.origin}${path}`, JSON.stringify(body), { "content-type": "application/json" });
  assert.equal(response.status, 200, `${path}: ${response.text}`);
  return response.json;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("two provider processes on one PostgreSQL database", { skip: missingServer(POSTGRES_URL, "TRUSTLINE_TEST_POSTGRES_URL") }, () => {
  let database;
  let instances = [];
  let pool;
  let storage;

  before(async () => {
    database = await postgresBackend.createDatabase();
    // Both start at once on the empty database.
    instances = await Promise.all([
      startProviderProcess(database.connectionString),
      startProviderProcess(database.connectionString),
    ]);
    pool = new pg.Pool({ connectionString: database.connectionString, max: 2 });
    storage = postgresStorage(pool);
  });

  after(async () => {
    await Promise.all(instances.map(stopProviderProcess));
    await pool?.end();
    await database?.close();
  });

  test("both issue tokens from the first request on", async () => {
    const credentials = await adminCall(instances[0], "/admin/clients", { name: "orders", scopes: ["read"] });
    const [first, second] = instances;

    // The first requests of both instances create their first signing key at once.
    const tokens = await Promise.all([
      issueToken(`${first.origin}/token`, credentials),
      issueToken(`${second.origin}/token`, credentials),
      get(`${first.origin}/.well-known/jwks.json`),
      issueToken(`${second.origin}/token`, credentials),
      issueToken(`${first.origin}/token`, credentials),
    ]);

    for (const token of tokens.filter((value) => typeof value === "string")) {
      assert.equal(decodeJwt(token).payload.sub, credentials.clientId);
    }
    const stored = await storage.getSigningKeys();
    assert.ok(stored.length >= 1, "a key was created");
    assert.ok(stored.length <= 2, `one key per instance at most, got ${stored.length}`);
  });

  test("revocation on one instance rejects everywhere", async () => {
    const credentials = await adminCall(instances[1], "/admin/clients", { name: "billing", scopes: ["read"] });
    const token = await issueToken(`${instances[0].origin}/token`, credentials);
    const guard = createGuard({ issuer: ISSUER, jwksUrl: `${instances[0].origin}/.well-known/jwks.json`, storage });
    assert.equal((await guard.verify(token)).clientId, credentials.clientId);
    const { jti, exp } = decodeJwt(token).payload;

    await Promise.all([
      adminCall(instances[0], "/admin/revoke", { jti, expiresAt: exp * 1000 }),
      adminCall(instances[1], "/admin/revoke", { jti, expiresAt: exp * 1000 }),
    ]);

    await assert.rejects(guard.verify(token), { code: "invalid_token" });
    assert.equal((await pool.query("SELECT count(*)::int AS n FROM trustline_revoked_tokens WHERE jti = $1", [jti])).rows[0].n, 1);
  });

  test("rotated key reaches the other instance in time", async () => {
    const credentials = await adminCall(instances[0], "/admin/clients", { name: "rotation", scopes: ["read"] });
    const [rotating, other] = instances;
    await issueToken(`${other.origin}/token`, credentials);

    const rotatedAt = Date.now();
    const { keyId } = await adminCall(rotating, "/admin/rotate-key");
    assert.equal(decodeJwt(await issueToken(`${rotating.origin}/token`, credentials)).header.kid, keyId);

    // The other instance signs with the new key once its cached keys expire.
    let otherKid;
    while (Date.now() - rotatedAt < (KEY_CACHE_SECONDS + 5) * 1000) {
      otherKid = decodeJwt(await issueToken(`${other.origin}/token`, credentials)).header.kid;
      if (otherKid === keyId) break;
      await sleep(500);
    }
    const elapsed = Date.now() - rotatedAt;
    assert.equal(otherKid, keyId, `the other instance still signs with ${otherKid} after ${elapsed} ms`);
    assert.ok(elapsed <= (KEY_CACHE_SECONDS + 2) * 1000, `took ${elapsed} ms, more than the key cache time`);

    const published = (await get(`${other.origin}/.well-known/jwks.json`)).json.keys.map((key) => key.kid);
    assert.ok(published.includes(keyId), "the other instance publishes the new key");
    const now = Date.now();
    const open = (await storage.getSigningKeys()).filter((key) => key.notBefore.getTime() <= now && key.notAfter === null);
    assert.deepEqual(
      open.map((key) => key.keyId),
      [keyId],
      "one signing key without an end date",
    );
  });
});
