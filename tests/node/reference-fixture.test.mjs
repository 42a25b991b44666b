// A SQLite database written by the TypeScript trustline package 0.1.1 (see
// tests/fixtures/reference-0.1/README.md): opened as it is, without a
// migration, and served on.

import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { createGuard } from "trustline";
import { sqliteStorage } from "trustline/adapters/sqlite";

import { decodeJwt } from "./helpers/jwt.mjs";
import { assertOAuthError, get, requestToken } from "./helpers/oauth.mjs";
import { assertAuthError, startProvider, tempPath } from "./helpers/setup.mjs";
import { querySqlite, readSchema } from "./helpers/sqlite.mjs";

const FIXTURE_DIR = new URL("../fixtures/reference-0.1/", import.meta.url);
const credentials = JSON.parse(fs.readFileSync(new URL("credentials.json", FIXTURE_DIR), "utf8"));
const fixture = credentials.backends.sqlite;
const ISSUER = credentials.issuer;
const orders = fixture.clients["orders-api"];
const billing = fixture.clients["billing-worker"];

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Copies the fixture database to a fresh temporary path and returns that path. */
function copyFixture() {
  const file = tempPath("reference.sqlite");
  fs.copyFileSync(fileURLToPath(new URL(fixture.file, FIXTURE_DIR)), file);
  return file;
}

/**
 * Opens a copy of the fixture and serves a provider with the fixture's issuer
 * and a 10-year token lifetime. The HTTP server's origin differs from the
 * issuer, as it does behind a proxy, so the guard is given `jwksUrl`.
 */
async function setup(t) {
  const file = copyFixture();
  const storage = sqliteStorage(file);
  const ctx = await startProvider(t, { storage, issuer: ISSUER, token: { ttl: credentials.tokenTtlSeconds } });
  const guard = createGuard({ issuer: ISSUER, jwksUrl: ctx.jwksUrl, storage });
  return { ...ctx, file, guard };
}

describe("reference 0.1 sqlite fixture", () => {
  test("opens without changing the schema", async (t) => {
    const file = copyFixture();
    const before = readSchema(file);
    const storage = sqliteStorage(file);
    const ctx = await startProvider(t, { storage, issuer: ISSUER });

    await ctx.provider.clients.list();
    await requestToken(ctx.tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets.current });
    await get(ctx.jwksUrl);

    assert.deepEqual(readSchema(file), before);
  });

  test("reads both clients", async (t) => {
    const { provider } = await setup(t);

    const clients = await provider.clients.list();

    assert.equal(clients.length, 2);
    const byName = new Map(clients.map((client) => [client.name, client]));
    const ordersClient = byName.get("orders-api");
    assert.equal(ordersClient.clientId, orders.clientId);
    assert.deepEqual(ordersClient.scopes, orders.scopes);
    assert.equal(ordersClient.active, true);
    assert.equal(ordersClient.hasPendingSecretRotation, true);
    assert.equal(ordersClient.nextSecretExpiresAt.toISOString(), orders.nextSecretExpiresAt);
    assert.equal(ordersClient.tokensInvalidBefore.toISOString(), orders.tokensInvalidBefore);
    const billingClient = byName.get("billing-worker");
    assert.equal(billingClient.clientId, billing.clientId);
    assert.deepEqual(billingClient.scopes, billing.scopes);
    assert.equal(billingClient.active, false);
    assert.equal(billingClient.hasPendingSecretRotation, false);
  });

  test("get reads stored timestamps", async (t) => {
    const { provider } = await setup(t);

    const client = await provider.clients.get(orders.clientId);

    assert.equal(client.createdAt.toISOString(), "2026-12-04T19:50:08.717Z");
    assert.equal(client.secretLastRotatedAt.toISOString(), "2026-12-04T19:50:09.164Z");
    assert.equal(client.nextSecretCreatedAt.toISOString(), "2026-12-04T19:50:09.164Z");
    assert.equal(client.nextSecretExpiresAt.toISOString(), orders.nextSecretExpiresAt);
    assert.equal(client.tokensInvalidBefore.toISOString(), orders.tokensInvalidBefore);
    assert.equal((await provider.clients.get(billing.clientId)).active, false);
  });

  test("current and next secrets issue tokens", async (t) => {
    const { tokenUrl, storage } = await setup(t);

    for (const role of ["current", "next"]) {
      // Twice each: the first use may replace the bcrypt hash with a new one.
      for (const auth of ["basic", "post", "basic"]) {
        const response = await requestToken(tokenUrl, {
          clientId: orders.clientId,
          clientSecret: orders.secrets[role],
          auth,
        });
        assert.equal(response.status, 200, `${role} secret, ${auth}: ${response.text}`);
        assert.equal(decodeJwt(response.json.access_token).payload.sub, orders.clientId);
      }
    }
    const stored = await storage.findClient(orders.clientId);
    assert.ok(stored.nextSecretHash, "the next secret is still pending");
  });

  test("secrets work after reopening", async (t) => {
    const first = await setup(t);
    for (const role of ["current", "next"]) {
      const response = await requestToken(first.tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets[role] });
      assert.equal(response.status, 200, response.text);
    }

    const reopened = await startProvider(t, { storage: sqliteStorage(first.file), issuer: ISSUER });

    for (const role of ["current", "next"]) {
      const response = await requestToken(reopened.tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets[role] });
      assert.equal(response.status, 200, `${role} secret after reopening: ${response.text}`);
    }
    const wrong = await requestToken(reopened.tokenUrl, { clientId: orders.clientId, clientSecret: billing.secrets.current });
    assertOAuthError(wrong, 401, "invalid_client");
  });

  test("billing-worker is invalid_client", async (t) => {
    const { tokenUrl } = await setup(t);

    const response = await requestToken(tokenUrl, { clientId: billing.clientId, clientSecret: billing.secrets.current });

    assertOAuthError(response, 401, "invalid_client");
  });

  test("guard accepts control tokens", async (t) => {
    const { guard } = await setup(t);

    const control = await guard.verify(fixture.tokens.control);
    const rotated = await guard.verify(fixture.tokens.afterKeyRotation);

    assert.equal(control.clientId, orders.clientId);
    assert.equal(control.name, "orders-api");
    assert.deepEqual(control.scopes, orders.scopes);
    assert.equal(rotated.clientId, orders.clientId);
  });

  test("guard rejects revoked token", async (t) => {
    const { guard, storage } = await setup(t);

    await assertAuthError(guard.verify(fixture.tokens.revoked), "invalid_token", 401);
    const record = await storage.findRevokedToken(fixture.revokedJti);
    assert.equal(record.expiresAt.toISOString(), fixture.revokedUntil);
  });

  test("guard rejects disabled client's token", async (t) => {
    const { guard } = await setup(t);

    await assertAuthError(guard.verify(fixture.tokens.billingWorkerBeforeDisable), "invalid_token", 401);
  });

  test("jwks lists both keys", async (t) => {
    const { jwksUrl } = await setup(t);

    const response = await get(jwksUrl);

    assert.equal(response.status, 200, response.text);
    const kids = response.json.keys.map((key) => key.kid);
    assert.deepEqual(new Set(kids), new Set([fixture.signingKeys.retiring.keyId, fixture.signingKeys.current.keyId]));
  });

  test("new tokens use the current key", async (t) => {
    const { tokenUrl, guard } = await setup(t);

    const response = await requestToken(tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets.current });

    assert.equal(response.status, 200, response.text);
    const token = response.json.access_token;
    assert.equal(decodeJwt(token).header.kid, fixture.signingKeys.current.keyId);
    assert.equal(decodeJwt(token).payload.iss, ISSUER);
    assert.equal((await guard.verify(token)).clientId, orders.clientId);
  });

  test("writes keep the stored formats", async (t) => {
    const { provider, tokenUrl, file } = await setup(t);

    await requestToken(tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets.next });
    await provider.clients.rename(orders.clientId, "orders-api-v2");
    await provider.clients.updateScopes(orders.clientId, ["read:orders"]);
    const created = await provider.clients.create({ name: "new-client", scopes: ["a", "b"] });
    await provider.keys.rotate();
    await provider.tokens.revoke("01a2429b-0000-7000-8000-000000000000", new Date("2030-01-01T00:00:00.000Z"));

    const clients = querySqlite(file, "SELECT * FROM trustline_clients");
    const keys = querySqlite(file, "SELECT * FROM trustline_signing_keys");
    const revoked = querySqlite(file, "SELECT * FROM trustline_revoked_tokens");
    const timestampColumns = {
      clients: [
        "created_at",
        "updated_at",
        "last_seen_at",
        "current_secret_created_at",
        "current_secret_last_used_at",
        "next_secret_created_at",
        "next_secret_expires_at",
        "next_secret_last_used_at",
        "secret_last_rotated_at",
        "tokens_invalid_before",
      ],
      keys: ["created_at", "not_before", "not_after"],
      revoked: ["expires_at"],
    };
    for (const [table, rows] of Object.entries({ clients, keys, revoked })) {
      for (const row of rows) {
        for (const column of timestampColumns[table]) {
          const value = row[column];
          assert.ok(value === null || ISO_MS.test(value), `${table}.${column} = ${JSON.stringify(value)}`);
        }
      }
    }

    const renamed = clients.find((row) => row.client_id === orders.clientId);
    assert.equal(renamed.name, "orders-api-v2");
    assert.equal(renamed.scopes, JSON.stringify(["read:orders"]));
    assert.equal(clients.find((row) => row.client_id === created.clientId).scopes, JSON.stringify(["a", "b"]));
    assert.equal(keys.length, 3);
    assert.ok(revoked.some((row) => row.expires_at === "2030-01-01T00:00:00.000Z"));
  });
});
