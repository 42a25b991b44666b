// Storage as users plug it in: SQL table names, and user-written adapters
// that fail (a database that is down), which must not take the process down.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createGuard } from "trustline";
import { sqliteStorage } from "trustline/adapters/sqlite";

import { jsStorage } from "./helpers/js-storage.mjs";
import { decodeJwt } from "./helpers/jwt.mjs";
import { issueToken, requestToken } from "./helpers/oauth.mjs";
import { startProvider, tempPath } from "./helpers/setup.mjs";
import { querySqlite } from "./helpers/sqlite.mjs";

function tableNames(file) {
  return querySqlite(file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((row) => row.name);
}

describe("sqlite table options", () => {
  test("default table names", async (t) => {
    const file = tempPath();
    const { provider } = await startProvider(t, { storage: sqliteStorage(file) });

    await provider.clients.create({ name: "a" });

    assert.deepEqual(tableNames(file), ["trustline_clients", "trustline_revoked_tokens", "trustline_signing_keys"]);
  });

  test("tablePrefix names the tables", async (t) => {
    const file = tempPath();
    const storage = sqliteStorage(file, { tablePrefix: "auth_" });
    const { provider, tokenUrl } = await startProvider(t, { storage });

    const credentials = await provider.clients.create({ name: "a", scopes: ["x"] });
    const token = await issueToken(tokenUrl, credentials);
    await provider.tokens.revoke(decodeJwt(token).payload.jti, new Date(Date.now() + 60_000));

    assert.deepEqual(tableNames(file), ["auth_clients", "auth_revoked_tokens", "auth_signing_keys"]);
    assert.equal(querySqlite(file, "SELECT client_id FROM auth_clients")[0].client_id, credentials.clientId);
    assert.equal(querySqlite(file, "SELECT jti FROM auth_revoked_tokens")[0].jti, decodeJwt(token).payload.jti);
  });

  test("tables option names each table", async (t) => {
    const file = tempPath();
    const storage = sqliteStorage(file, {
      tables: { clients: "service_clients", signingKeys: "jwt_keys", revokedTokens: "revoked_jtis" },
    });
    const { provider, tokenUrl } = await startProvider(t, { storage });

    const credentials = await provider.clients.create({ name: "a", scopes: ["x"] });
    await issueToken(tokenUrl, credentials);

    assert.deepEqual(tableNames(file), ["jwt_keys", "revoked_jtis", "service_clients"]);
    assert.equal(querySqlite(file, "SELECT count(*) AS n FROM jwt_keys")[0].n, 1);
  });

  test("prefixes keep data apart in one file", async (t) => {
    const file = tempPath();
    const blue = await startProvider(t, { storage: sqliteStorage(file, { tablePrefix: "blue_" }) });
    const green = await startProvider(t, { storage: sqliteStorage(file, { tablePrefix: "green_" }) });

    const credentials = await blue.provider.clients.create({ name: "blue-client" });

    assert.equal((await green.provider.clients.list()).length, 0);
    assert.equal((await blue.provider.clients.list()).length, 1);
    assert.equal((await requestToken(green.tokenUrl, credentials)).status, 401);
  });
});

describe("failing storage adapter", () => {
  /** Wraps jsStorage so that `method` throws (sync) or rejects (async) while `failing.on` is true. */
  function failingStorage(method, mode) {
    const storage = jsStorage();
    const failing = { on: false };
    const original = storage[method];
    storage[method] =
      mode === "sync"
        ? function (...args) {
            if (failing.on) throw new Error("storage is down (sync throw)");
            return original.apply(this, args);
          }
        : async function (...args) {
            if (failing.on) throw new Error("storage is down (rejected)");
            return original.apply(this, args);
          };
    return { storage, failing };
  }

  for (const mode of ["sync", "async"]) {
    test(`${mode} findClient failure is a 5xx`, async (t) => {
      const { storage, failing } = failingStorage("findClient", mode);
      const { provider, tokenUrl } = await startProvider(t, { storage });
      const credentials = await provider.clients.create({ name: "a", scopes: ["x"] });

      failing.on = true;
      const failed = await requestToken(tokenUrl, credentials);
      failing.on = false;
      const recovered = await requestToken(tokenUrl, credentials);

      assert.ok(failed.status >= 500, `status ${failed.status} is a server error: ${failed.text}`);
      assert.ok(failed.status <= 599, `status ${failed.status} is a server error`);
      assert.equal(typeof failed.json?.error, "string", `OAuth error body: ${failed.text}`);
      assert.equal(failed.text.includes(credentials.clientSecret), false, "no secret in the error body");
      assert.equal(recovered.status, 200, recovered.text);
    });

    test(`${mode} admin call failure rejects`, async (t) => {
      const { storage, failing } = failingStorage("listClients", mode);
      const { provider } = await startProvider(t, { storage });

      failing.on = true;
      await assert.rejects(provider.clients.list(), /storage is down/);
      failing.on = false;

      assert.deepEqual(await provider.clients.list(), []);
    });

    test(`${mode} guard storage failure rejects`, async (t) => {
      const { storage, failing } = failingStorage("findRevokedToken", mode);
      const { provider, issuer, tokenUrl } = await startProvider(t, { storage });
      const credentials = await provider.clients.create({ name: "a", scopes: ["x"] });
      const token = await issueToken(tokenUrl, credentials);
      const guard = createGuard({ issuer, storage });

      failing.on = true;
      await assert.rejects(guard.verify(token), Error);
      failing.on = false;

      assert.equal((await guard.verify(token)).clientId, credentials.clientId);
    });
  }
});
