// A PostgreSQL server stopped while a provider and a guard are serving: the
// token endpoint responds 503 with Retry-After (never invalid_client), the
// guard and admin calls fail with storage_unavailable, nothing half-written
// stays behind, and everything works again once the server is back.
//
// The test starts a PostgreSQL server of its own (scripts/databases.sh with
// a separate instance name and port), so that stopping it cannot disturb
// other tests that use the shared server at the same time. It always
// removes that server at the end.

import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import pg from "pg";

import { AuthError, createGuard, createProvider } from "trustline";
import { postgresStorage } from "trustline/adapters/postgres";

import { startServer } from "../node/helpers/http.mjs";
import { decodeJwt } from "../node/helpers/jwt.mjs";
import { issueToken, requestToken } from "../node/helpers/oauth.mjs";
import { POSTGRES_URL, missingServer } from "./helpers/backends.mjs";

const DATABASES_SCRIPT = fileURLToPath(new URL("../../scripts/databases.sh", import.meta.url));
const ISSUER = "https://auth.outage.test";

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function assertStorageUnavailable(promise) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof AuthError, `expected AuthError, got ${error?.constructor?.name}: ${error?.message}`);
    assert.equal(error.code, "storage_unavailable", error.message);
    assert.equal(error.status, 503);
    return true;
  });
}

describe("PostgreSQL stopped mid-run", { skip: missingServer(POSTGRES_URL, "TRUSTLINE_TEST_POSTGRES_URL") }, () => {
  const env = { ...process.env, TRUSTLINE_DB_INSTANCE: `outage-${process.pid}` };
  const databases = (command) =>
    execFileSync("bash", [DATABASES_SCRIPT, command, "postgres"], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  // Asynchronous, so that the requests of the test go on while the server stops and starts.
  const databasesInBackground = (command) => promisify(execFile)("bash", [DATABASES_SCRIPT, command, "postgres"], { env });

  let pool;
  let context;

  before(async () => {
    env.TRUSTLINE_TEST_POSTGRES_PORT = String(await freePort());
    const exports = databases("start");
    const url = /TRUSTLINE_TEST_POSTGRES_URL='([^']+)'/.exec(exports)?.[1];
    assert.ok(url, `scripts/databases.sh printed no URL: ${exports}`);

    pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 2000 });
    const storage = postgresStorage(pool);
    const server = await startServer();
    const provider = createProvider({ issuer: ISSUER, storage });
    server.setHandler((request) => provider.handle(request));
    const guard = createGuard({ issuer: ISSUER, jwksUrl: `${server.origin}/.well-known/jwks.json`, storage });
    context = { storage, provider, guard, server, tokenUrl: `${server.origin}/token` };
  });

  after(async () => {
    await context?.server.close();
    await pool?.end().catch(() => {});
    // Always removes the server of this test, running or not.
    databases("remove");
  });

  test("outage gives 503 and recovers", async () => {
    const { provider, guard, tokenUrl, storage } = context;
    const credentials = await provider.clients.create({ name: "orders", scopes: ["read"] });
    const token = await issueToken(tokenUrl, credentials);
    assert.equal((await guard.verify(token)).clientId, credentials.clientId);

    // Token requests keep coming while the server stops.
    const responses = [];
    let running = true;
    const load = (async () => {
      while (running) {
        responses.push(await requestToken(tokenUrl, credentials));
        await sleep(20);
      }
    })();
    await sleep(200);
    await databasesInBackground("stop");
    await sleep(200);

    const during = await requestToken(tokenUrl, credentials);
    assert.equal(during.status, 503, during.text);
    assert.equal(during.headers.get("retry-after"), "5");
    assert.equal(during.json.error, "temporarily_unavailable");
    await assertStorageUnavailable(guard.verify(token));
    await assertStorageUnavailable(provider.clients.create({ name: "during-outage" }));
    await assertStorageUnavailable(provider.tokens.revoke(decodeJwt(token).payload.jti, new Date(Date.now() + 60_000)));

    await databasesInBackground("start");
    running = false;
    await load;

    // Every response of the run was a success or a 503, never a client error.
    const statuses = new Set(responses.map((response) => response.status));
    assert.ok(responses.length > 5, `${responses.length} requests ran`);
    assert.ok(statuses.has(503), `some requests met the outage: ${[...statuses]}`);
    for (const response of responses) {
      assert.ok(response.status === 200 || response.status === 503, `status ${response.status}: ${response.text}`);
      if (response.status === 503) assert.equal(response.headers.get("retry-after"), "5");
    }

    // Back up: the pool reconnects, and nothing from the outage was written.
    assert.equal((await requestToken(tokenUrl, credentials)).status, 200);
    assert.equal((await guard.verify(token)).clientId, credentials.clientId);
    assert.deepEqual((await provider.clients.list()).map((client) => client.name), ["orders"]);
    assert.equal(await storage.findRevokedToken(decodeJwt(token).payload.jti), null);
  });
});
