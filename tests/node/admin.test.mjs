// provider.clients.*: the admin API, checked through its results and through
// real token requests.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { UUID_V7, decodeJwt } from "./helpers/jwt.mjs";
import { assertOAuthError, requestToken } from "./helpers/oauth.mjs";
import { assertDateNear, sleepUntil, startProvider, storageKinds } from "./helpers/setup.mjs";

const PROVIDER_CLIENT_FIELDS = [
  "active",
  "clientId",
  "createdAt",
  "currentSecretCreatedAt",
  "currentSecretLastUsedAt",
  "hasPendingSecretRotation",
  "id",
  "lastSeenAt",
  "name",
  "nextSecretCreatedAt",
  "nextSecretExpiresAt",
  "nextSecretLastUsedAt",
  "scopes",
  "secretLastRotatedAt",
  "tokensInvalidBefore",
  "updatedAt",
];

const UNKNOWN_ID = "svc_0000000000000000000000000000dead";

async function setup(t, kind, options = {}) {
  const ctx = await startProvider(t, { storage: kind.create(), ...options });
  const credentials = await ctx.provider.clients.create({
    name: "orders-api",
    scopes: ["read:orders", "write:orders"],
  });
  const tokenStatus = async (secret = credentials.clientSecret, extra = {}) =>
    (await requestToken(ctx.tokenUrl, { clientId: credentials.clientId, clientSecret: secret, ...extra })).status;
  return { ...ctx, credentials, tokenStatus };
}

/** Asserts the ProviderClient contract: every field, Date types, no secret material. */
function assertProviderClient(client, secrets = []) {
  for (const field of PROVIDER_CLIENT_FIELDS) {
    assert.ok(field in client, `ProviderClient has ${field}`);
  }
  for (const key of Object.keys(client)) {
    assert.doesNotMatch(key, /hash/i, `ProviderClient must not expose ${key}`);
    assert.notEqual(key, "clientSecret", "ProviderClient must not expose clientSecret");
  }

  const text = JSON.stringify(client);
  assert.doesNotMatch(text, /\$2[aby]\$/, "no bcrypt hash in ProviderClient");
  for (const secret of secrets) {
    assert.equal(text.includes(secret), false, "no client secret in ProviderClient");
  }

  for (const field of ["createdAt", "updatedAt", "currentSecretCreatedAt"]) {
    assert.ok(client[field] instanceof Date, `${field} is a Date`);
  }
  for (const field of [
    "lastSeenAt",
    "currentSecretLastUsedAt",
    "nextSecretCreatedAt",
    "nextSecretExpiresAt",
    "nextSecretLastUsedAt",
    "secretLastRotatedAt",
    "tokensInvalidBefore",
  ]) {
    assert.ok(client[field] === null || client[field] instanceof Date, `${field} is a Date or null`);
  }
  assert.equal(typeof client.active, "boolean");
  assert.equal(typeof client.hasPendingSecretRotation, "boolean");
  assert.ok(Array.isArray(client.scopes), "scopes is an array");
}

for (const kind of storageKinds) {
  describe(`clients admin (${kind.name})`, () => {
    test("create returns id and secret formats", async (t) => {
      const { provider } = await startProvider(t, { storage: kind.create() });

      const first = await provider.clients.create({ name: "a", scopes: ["x"] });
      const second = await provider.clients.create({ name: "b" });

      assert.deepEqual(Object.keys(first).sort(), ["clientId", "clientSecret"]);
      for (const created of [first, second]) {
        assert.match(created.clientId, /^svc_[0-9a-f]{32}$/);
        const hex = created.clientId.slice(4);
        const asUuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
        assert.match(asUuid, UUID_V7, "clientId is a UUIDv7 without dashes");
        assert.match(created.clientSecret, /^[A-Za-z0-9_-]{43}$/);
        assert.equal(Buffer.from(created.clientSecret, "base64url").length, 32);
      }
      assert.notEqual(first.clientId, second.clientId);
      assert.notEqual(first.clientSecret, second.clientSecret);
    });

    test("get returns ProviderClient", async (t) => {
      const { provider, credentials } = await setup(t, kind);
      const before = Date.now();

      const client = await provider.clients.get(credentials.clientId);

      assertProviderClient(client, [credentials.clientSecret]);
      assert.match(client.id, UUID_V7);
      assert.equal(client.clientId, credentials.clientId);
      assert.equal(client.name, "orders-api");
      assert.deepEqual(client.scopes, ["read:orders", "write:orders"]);
      assertDateNear(client.createdAt, before, 5000, "createdAt");
      assert.equal(client.active, true);
      assert.equal(client.lastSeenAt, null);
      assert.equal(client.currentSecretLastUsedAt, null);
      assert.equal(client.nextSecretCreatedAt, null);
      assert.equal(client.nextSecretExpiresAt, null);
      assert.equal(client.nextSecretLastUsedAt, null);
      assert.equal(client.secretLastRotatedAt, null);
      assert.equal(client.tokensInvalidBefore, null);
      assert.equal(client.hasPendingSecretRotation, false);
    });

    test("create without scopes", async (t) => {
      const { provider } = await startProvider(t, { storage: kind.create() });

      const { clientId } = await provider.clients.create({ name: "bare" });

      assert.deepEqual((await provider.clients.get(clientId)).scopes, []);
    });

    test("get unknown returns null", async (t) => {
      const { provider } = await setup(t, kind);

      assert.equal(await provider.clients.get(UNKNOWN_ID), null);
    });

    test("list returns every client", async (t) => {
      const { provider, credentials } = await setup(t, kind);
      const other = await provider.clients.create({ name: "billing-worker", scopes: ["read:invoices"] });

      const clients = await provider.clients.list();

      assert.equal(clients.length, 2);
      const byId = new Map(clients.map((client) => [client.clientId, client]));
      assert.equal(byId.get(credentials.clientId).name, "orders-api");
      assert.deepEqual(byId.get(other.clientId).scopes, ["read:invoices"]);
      for (const client of clients) {
        assertProviderClient(client, [credentials.clientSecret, other.clientSecret]);
      }
    });

    test("unknown id rejected naming the id", async (t) => {
      const { provider } = await setup(t, kind);
      const calls = {
        rename: () => provider.clients.rename(UNKNOWN_ID, "x"),
        updateScopes: () => provider.clients.updateScopes(UNKNOWN_ID, ["x"]),
        rotateSecret: () => provider.clients.rotateSecret(UNKNOWN_ID),
        revoke: () => provider.clients.revoke(UNKNOWN_ID),
        disable: () => provider.clients.disable(UNKNOWN_ID),
        enable: () => provider.clients.enable(UNKNOWN_ID),
        invalidateTokensBefore: () => provider.clients.invalidateTokensBefore(UNKNOWN_ID),
        clearTokensInvalidBefore: () => provider.clients.clearTokensInvalidBefore(UNKNOWN_ID),
      };

      for (const [name, call] of Object.entries(calls)) {
        await assert.rejects(call(), (error) => {
          assert.ok(error instanceof Error, `${name} rejects with an Error`);
          assert.ok(error.message.includes(UNKNOWN_ID), `${name} message names the id: ${error.message}`);
          return true;
        });
      }
    });

    test("rename updates name and claim", async (t) => {
      const { provider, tokenUrl, credentials } = await setup(t, kind);
      const createdAt = (await provider.clients.get(credentials.clientId)).createdAt;

      await provider.clients.rename(credentials.clientId, "orders-api-v2");

      const client = await provider.clients.get(credentials.clientId);
      assert.equal(client.name, "orders-api-v2");
      assert.ok(client.updatedAt.getTime() >= createdAt.getTime(), "updatedAt moves forward");
      const token = (await requestToken(tokenUrl, credentials)).json.access_token;
      assert.equal(decodeJwt(token).payload.name, "orders-api-v2");
    });

    test("updateScopes changes grantable scopes", async (t) => {
      const { provider, tokenUrl, credentials } = await setup(t, kind);

      await provider.clients.updateScopes(credentials.clientId, ["read:orders", "read:invoices"]);

      assert.deepEqual((await provider.clients.get(credentials.clientId)).scopes, ["read:orders", "read:invoices"]);
      const all = await requestToken(tokenUrl, credentials);
      assert.deepEqual(new Set(all.json.scope.split(" ")), new Set(["read:orders", "read:invoices"]));
      const removed = await requestToken(tokenUrl, { ...credentials, scope: "write:orders" });
      assertOAuthError(removed, 400, "invalid_scope");
      const added = await requestToken(tokenUrl, { ...credentials, scope: "read:invoices" });
      assert.equal(added.status, 200, added.text);
    });

    test("rotateSecret default overlap keeps both", async (t) => {
      const { provider, credentials, tokenStatus } = await setup(t, kind);
      const before = Date.now();

      const rotated = await provider.clients.rotateSecret(credentials.clientId);

      assert.equal(rotated.clientId, credentials.clientId);
      assert.match(rotated.clientSecret, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(rotated.clientSecret, credentials.clientSecret);
      assertDateNear(rotated.expiresAt, before + 3600 * 1000, 5000, "expiresAt");

      assert.equal(await tokenStatus(credentials.clientSecret), 200, "old secret works during the overlap");
      assert.equal(await tokenStatus(rotated.clientSecret), 200, "new secret works during the overlap");
      assert.equal(await tokenStatus(rotated.clientSecret, { auth: "post" }), 200, "new secret works in the body");

      const client = await provider.clients.get(credentials.clientId);
      assertProviderClient(client, [credentials.clientSecret, rotated.clientSecret]);
      assert.equal(client.hasPendingSecretRotation, true);
      assert.equal(client.nextSecretExpiresAt.getTime(), rotated.expiresAt.getTime());
      assert.ok(client.nextSecretCreatedAt instanceof Date, "nextSecretCreatedAt is set");
      assert.ok(client.nextSecretLastUsedAt instanceof Date, "nextSecretLastUsedAt is set after use");
      assert.ok(client.secretLastRotatedAt instanceof Date, "secretLastRotatedAt is set");
    });

    test("rotateSecret with expiresAt", async (t) => {
      const { provider, credentials, tokenStatus } = await setup(t, kind);
      const expiresAt = new Date(Date.now() + 2 * 3600 * 1000);

      const rotated = await provider.clients.rotateSecret(credentials.clientId, { expiresAt });

      assert.equal(rotated.expiresAt.getTime(), expiresAt.getTime());
      const client = await provider.clients.get(credentials.clientId);
      assert.equal(client.nextSecretExpiresAt.getTime(), expiresAt.getTime());
      assert.equal(await tokenStatus(credentials.clientSecret), 200);
      assert.equal(await tokenStatus(rotated.clientSecret), 200);
    });

    test("rotateSecret overlap 0 replaces at once", async (t) => {
      const { provider, credentials, tokenStatus } = await setup(t, kind);

      const rotated = await provider.clients.rotateSecret(credentials.clientId, { overlapSeconds: 0 });

      assert.equal(rotated.expiresAt, null);
      assert.equal(await tokenStatus(credentials.clientSecret), 401, "old secret stops at once");
      assert.equal(await tokenStatus(rotated.clientSecret), 200, "new secret works");
      const client = await provider.clients.get(credentials.clientId);
      assert.equal(client.hasPendingSecretRotation, false);
      assert.equal(client.nextSecretExpiresAt, null);
      assert.ok(client.secretLastRotatedAt instanceof Date, "secretLastRotatedAt is set");
    });

    test("rotateSecret promotes after overlap", async (t) => {
      const { provider, credentials, tokenStatus } = await setup(t, kind);
      const rotatedAt = Date.now();

      const rotated = await provider.clients.rotateSecret(credentials.clientId, { overlapSeconds: 1 });

      assert.equal(await tokenStatus(credentials.clientSecret), 200, "old secret works during the overlap");
      await sleepUntil(rotatedAt + 1300);
      assert.equal(await tokenStatus(credentials.clientSecret), 401, "old secret stops after the overlap");
      assert.equal(await tokenStatus(rotated.clientSecret), 200, "new secret works after the overlap");
      const client = await provider.clients.get(credentials.clientId);
      assert.equal(client.hasPendingSecretRotation, false, "next secret promoted");
      assert.equal(client.nextSecretExpiresAt, null);
    });

    test("rotateSecret past expiresAt rejected", async (t) => {
      const { provider, credentials, tokenStatus } = await setup(t, kind);

      await assert.rejects(
        provider.clients.rotateSecret(credentials.clientId, { expiresAt: new Date(Date.now() - 60_000) }),
        Error,
      );

      const client = await provider.clients.get(credentials.clientId);
      assert.equal(client.hasPendingSecretRotation, false, "rejected rotation leaves no pending secret");
      assert.equal(await tokenStatus(credentials.clientSecret), 200, "current secret still works");
    });

    test("revoke deletes the client", async (t) => {
      const { provider, tokenUrl, credentials } = await setup(t, kind);

      await provider.clients.revoke(credentials.clientId);

      assert.equal(await provider.clients.get(credentials.clientId), null);
      assert.deepEqual(await provider.clients.list(), []);
      assertOAuthError(await requestToken(tokenUrl, credentials), 401, "invalid_client");
    });

    test("disable and enable", async (t) => {
      const { provider, tokenUrl, credentials } = await setup(t, kind);

      await provider.clients.disable(credentials.clientId);
      assert.equal((await provider.clients.get(credentials.clientId)).active, false);
      assertOAuthError(await requestToken(tokenUrl, credentials), 401, "invalid_client");

      await provider.clients.enable(credentials.clientId);
      assert.equal((await provider.clients.get(credentials.clientId)).active, true);
      assert.equal((await requestToken(tokenUrl, credentials)).status, 200);
    });

    test("invalidateTokensBefore sets and clears cutoff", async (t) => {
      const { provider, credentials } = await setup(t, kind);
      const at = new Date("2030-01-02T03:04:05.678Z");

      await provider.clients.invalidateTokensBefore(credentials.clientId, at);
      assert.equal((await provider.clients.get(credentials.clientId)).tokensInvalidBefore.getTime(), at.getTime());

      const before = Date.now();
      await provider.clients.invalidateTokensBefore(credentials.clientId);
      assertDateNear((await provider.clients.get(credentials.clientId)).tokensInvalidBefore, before, 2000, "default cutoff");

      await provider.clients.clearTokensInvalidBefore(credentials.clientId);
      assert.equal((await provider.clients.get(credentials.clientId)).tokensInvalidBefore, null);
    });
  });
}
