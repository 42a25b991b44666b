// The storage suite that every backend runs: each StorageAdapter method, the
// conditional writes that keep several provider instances on one database
// consistent, table names, the reference 0.1 databases, and failures.
//
// It is written against a small test API ({ describe, test, afterEach }) so
// that node:test and bun:test both run it. A backend (see
// helpers/backends.mjs) creates isolated databases:
//   backend = { name, sql, dialect?, fixture?, closable?, createDatabase({ fixture }) }
//   database = { storage(options?), close(), and for SQL backends
//                tableNames(), columns(table), count(table), select(table),
//                and closeHandles() where `closable` }
// Each `database.storage()` call returns a new storage object over the same
// data (a new pool or handle), as another provider instance would open.

import assert from "node:assert/strict";
import crypto from "node:crypto";

import { AuthError, createGuard, createProvider } from "trustline";

import { ENCODED_SECRET, ENCODED_SECRET_BCRYPT, seedClient } from "../node/helpers/clients.mjs";
import { startServer } from "../node/helpers/http.mjs";
import { decodeJwt } from "../node/helpers/jwt.mjs";
import { assertOAuthError, get, issueToken, requestToken } from "../node/helpers/oauth.mjs";
import { reference } from "./helpers/fixture.mjs";

const SHARED_ISSUER = "https://auth.shared.test";
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The columns of the three tables, as the TypeScript package 0.1 created them. */
export const REFERENCE_COLUMNS = {
  clients: [
    "active",
    "client_id",
    "created_at",
    "current_secret_created_at",
    "current_secret_hash",
    "current_secret_last_used_at",
    "id",
    "last_seen_at",
    "name",
    "next_secret_created_at",
    "next_secret_expires_at",
    "next_secret_hash",
    "next_secret_last_used_at",
    "scopes",
    "secret_last_rotated_at",
    "tokens_invalid_before",
    "updated_at",
  ],
  signing_keys: ["algorithm", "created_at", "key_id", "not_after", "not_before", "private_key", "public_key"],
  revoked_tokens: ["expires_at", "jti"],
};

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts that `promise` rejects with an AuthError of `code` and `status`. */
async function assertAuthError(promise, code, status) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof AuthError, `expected AuthError ${code}, got ${error?.constructor?.name}: ${error?.message}`);
    assert.equal(error.code, code, `code; message: ${error.message}`);
    assert.equal(error.status, status, `status for ${code}`);
    return true;
  });
}

/** Builds a full ServiceClient record with a pending secret, for the adapter method tests. */
function clientRecord(overrides = {}) {
  const base = new Date("2026-03-01T10:00:00.123Z");
  const suffix = crypto.randomBytes(16).toString("hex");
  return {
    id: crypto.randomUUID(),
    clientId: `svc_${suffix}`,
    name: "inventory-sync",
    scopes: ["read:orders", "write:inventory"],
    createdAt: base,
    updatedAt: base,
    lastSeenAt: null,
    currentSecretHash: `sha256:${crypto.randomBytes(32).toString("base64url")}`,
    currentSecretCreatedAt: base,
    currentSecretLastUsedAt: null,
    nextSecretHash: `sha256:${crypto.randomBytes(32).toString("base64url")}`,
    nextSecretCreatedAt: new Date("2026-03-02T10:00:00.000Z"),
    nextSecretExpiresAt: new Date("2026-03-02T11:00:00.000Z"),
    nextSecretLastUsedAt: null,
    secretLastRotatedAt: new Date("2026-03-02T10:00:00.000Z"),
    active: true,
    tokensInvalidBefore: null,
    ...overrides,
  };
}

/** Builds a stored signing key record with a real P-256 key pair. */
function signingKeyRecord(keyId, notBefore, notAfter = null) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    keyId,
    algorithm: "ES256",
    privateKey: privateKey.export({ format: "pem", type: "pkcs8" }),
    publicKey: publicKey.export({ format: "pem", type: "spki" }),
    createdAt: notBefore,
    notBefore,
    notAfter,
  };
}

/**
 * Defines the suite for `backend`. `api` is `{ describe, test, afterEach }`
 * from node:test or bun:test.
 */
export function defineStorageSuite(api, backend) {
  const { describe, test, afterEach } = api;

  // Closers of the current test, run after it in reverse order.
  let cleanups = [];
  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    for (const cleanup of pending) await cleanup();
  });

  async function createDatabase(options) {
    const database = await backend.createDatabase(options);
    cleanups.push(() => database.close());
    return database;
  }

  /** Serves a provider over `storage` on 127.0.0.1; its issuer is the server origin unless given. */
  async function serve(storage, { issuer, ...options } = {}) {
    const server = await startServer();
    const providerIssuer = issuer ?? server.origin;
    const provider = createProvider({ issuer: providerIssuer, storage, ...options });
    const handle = provider.handle;
    server.setHandler((request) => handle(request));
    cleanups.push(() => server.close());
    return {
      provider,
      storage,
      issuer: providerIssuer,
      tokenUrl: `${server.origin}/token`,
      jwksUrl: `${server.origin}/.well-known/jwks.json`,
    };
  }

  /**
   * Serves a provider instance on `database` with its own storage object.
   * Instances share one issuer, as they do behind a load balancer.
   */
  function instance(database, options) {
    return serve(database.storage(), { issuer: SHARED_ISSUER, ...options });
  }

  /** Serves two provider instances on one database. */
  async function twoInstances(database, options) {
    return [await instance(database, options), await instance(database, options)];
  }

  /** Creates a guard for the shared issuer that fetches the JWKS from `context` and checks `storage`. */
  function guardFor(context, storage = context.storage) {
    return createGuard({ issuer: SHARED_ISSUER, jwksUrl: context.jwksUrl, storage });
  }

  describe(`storage adapter methods: ${backend.name}`, () => {
    test("client round trip", async () => {
      const database = await createDatabase();
      const storage = database.storage();
      const client = clientRecord();

      await storage.createClient(client);

      assert.deepEqual(await storage.findClient(client.clientId), client);
      assert.deepEqual(await storage.listClients(), [client]);
      assert.equal(await storage.findClient("svc_missing"), null);
    });

    test("client visible to another instance", async () => {
      const database = await createDatabase();
      const client = clientRecord();

      await database.storage().createClient(client);

      assert.deepEqual(await database.storage().findClient(client.clientId), client);
    });

    test("listClients returns every client", async () => {
      const database = await createDatabase();
      const storage = database.storage();
      const later = clientRecord({ name: "later", createdAt: new Date("2026-05-01T00:00:00.000Z") });
      const earlier = clientRecord({ name: "earlier", createdAt: new Date("2026-04-01T00:00:00.000Z") });

      await storage.createClient(later);
      await storage.createClient(earlier);

      const names = (await storage.listClients()).map((client) => client.name);
      assert.deepEqual(names.sort(), ["earlier", "later"]);
    });

    test("updateClient changes given fields", async () => {
      const database = await createDatabase();
      const storage = database.storage();
      const client = clientRecord();
      await storage.createClient(client);
      const updatedAt = new Date("2026-03-03T00:00:00.000Z");

      await storage.updateClient(client.clientId, {
        name: "renamed",
        scopes: ["only:this"],
        updatedAt,
        nextSecretHash: null,
        nextSecretCreatedAt: null,
        nextSecretExpiresAt: null,
      });

      assert.deepEqual(await storage.findClient(client.clientId), {
        ...client,
        name: "renamed",
        scopes: ["only:this"],
        updatedAt,
        nextSecretHash: null,
        nextSecretCreatedAt: null,
        nextSecretExpiresAt: null,
      });
    });

    test("touch, active and cutoff", async () => {
      const database = await createDatabase();
      const storage = database.storage();
      const client = clientRecord();
      await storage.createClient(client);
      const seen = new Date("2026-03-04T05:06:07.890Z");
      const cutoff = new Date("2026-03-05T00:00:00.000Z");

      await storage.touchClient(client.clientId, seen);
      await storage.setClientActive(client.clientId, false);
      await storage.setTokensInvalidBefore(client.clientId, cutoff);
      const changed = await storage.findClient(client.clientId);

      assert.equal(changed.lastSeenAt.toISOString(), seen.toISOString());
      assert.equal(changed.active, false);
      assert.equal(changed.tokensInvalidBefore.toISOString(), cutoff.toISOString());

      await storage.setClientActive(client.clientId, true);
      await storage.setTokensInvalidBefore(client.clientId, null);
      const restored = await storage.findClient(client.clientId);

      assert.equal(restored.active, true);
      assert.equal(restored.tokensInvalidBefore, null);
    });

    test("deleteClient removes it", async () => {
      const database = await createDatabase();
      const storage = database.storage();
      const kept = clientRecord({ name: "kept" });
      const deleted = clientRecord({ name: "deleted" });
      await storage.createClient(kept);
      await storage.createClient(deleted);

      await storage.deleteClient(deleted.clientId);
      await storage.deleteClient("svc_never_existed");

      assert.equal(await storage.findClient(deleted.clientId), null);
      assert.deepEqual((await storage.listClients()).map((client) => client.name), ["kept"]);
    });

    test("signing keys round trip", async () => {
      const database = await createDatabase();
      const storage = database.storage();
      const older = signingKeyRecord("key_older", new Date("2026-01-01T00:00:00.000Z"));
      const newer = signingKeyRecord("key_newer", new Date("2026-02-01T00:00:00.000Z"));

      await storage.addSigningKey(newer);
      await storage.addSigningKey(older);
      await storage.setSigningKeyNotAfter("key_older", new Date("2026-02-01T01:00:00.000Z"));

      // The order of getSigningKeys() is not part of the interface.
      const keys = new Map((await storage.getSigningKeys()).map((key) => [key.keyId, key]));
      assert.equal(keys.size, 2);
      assert.deepEqual(keys.get("key_older"), { ...older, notAfter: new Date("2026-02-01T01:00:00.000Z") });
      assert.deepEqual(keys.get("key_newer"), newer);

      await storage.setSigningKeyNotAfter("key_older", null);
      const cleared = (await storage.getSigningKeys()).find((key) => key.keyId === "key_older");
      assert.equal(cleared.notAfter, null);
    });

    test("revokeToken twice keeps later expiry", async () => {
      const database = await createDatabase();
      const storage = database.storage();
      const jti = crypto.randomUUID();
      const sooner = new Date(Date.now() + 60_000);
      const later = new Date(Date.now() + 120_000);

      await storage.revokeToken({ jti, expiresAt: later });
      await storage.revokeToken({ jti, expiresAt: sooner });

      assert.deepEqual(await storage.findRevokedToken(jti), { jti, expiresAt: later });
      assert.equal(await storage.findRevokedToken(crypto.randomUUID()), null);
      if (backend.sql) assert.equal(await database.count(tableName("revoked_tokens")), 1);
    });

    test("concurrent revocations leave one row", async () => {
      const database = await createDatabase();
      const instances = [database.storage(), database.storage()];
      const jti = crypto.randomUUID();
      const expiries = Array.from({ length: 20 }, (_, index) => new Date(Date.now() + 60_000 + index * 1000));

      await Promise.all(
        expiries.map((expiresAt, index) => instances[index % 2].revokeToken({ jti, expiresAt })),
      );

      assert.deepEqual(await instances[0].findRevokedToken(jti), { jti, expiresAt: expiries.at(-1) });
      if (backend.sql) assert.equal(await database.count(tableName("revoked_tokens")), 1);
    });

    test("expired revocations are purged", async () => {
      const database = await createDatabase();
      const storage = database.storage();
      const expiring = crypto.randomUUID();
      const alreadyExpired = crypto.randomUUID();
      const lasting = crypto.randomUUID();

      await storage.revokeToken({ jti: expiring, expiresAt: new Date(Date.now() + 400) });
      await storage.revokeToken({ jti: alreadyExpired, expiresAt: new Date(Date.now() - 1000) });
      await sleep(500);
      // Each revocation purges the rows that expired before it.
      await storage.revokeToken({ jti: lasting, expiresAt: new Date(Date.now() + 60_000) });

      assert.equal(await storage.findRevokedToken(expiring), null);
      assert.equal(await storage.findRevokedToken(alreadyExpired), null);
      assert.notEqual(await storage.findRevokedToken(lasting), null);
      if (backend.sql) assert.equal(await database.count(tableName("revoked_tokens")), 1);
    });
  });

  describe(`provider instances sharing storage: ${backend.name}`, () => {
    test("tokens and revocations cross instances", async () => {
      const database = await createDatabase();
      const [first, second] = await twoInstances(database);
      const credentials = await first.provider.clients.create({ name: "orders", scopes: ["read"] });
      const guard = guardFor(second);

      const token = await issueToken(second.tokenUrl, credentials);
      const guardOfFirst = guardFor(second, first.storage);
      assert.equal((await guard.verify(token)).clientId, credentials.clientId);
      assert.equal((await guardOfFirst.verify(token)).clientId, credentials.clientId);

      await first.provider.tokens.revoke(decodeJwt(token).payload.jti, new Date(Date.now() + 600_000));

      await assertAuthError(guard.verify(token), "invalid_token", 401);
    });

    test("disable on one instance applies to the other", async () => {
      const database = await createDatabase();
      const [first, second] = await twoInstances(database);
      const credentials = await first.provider.clients.create({ name: "orders", scopes: ["read"] });
      const token = await issueToken(second.tokenUrl, credentials);
      const guard = guardFor(second);

      await first.provider.clients.disable(credentials.clientId);

      assertOAuthError(await requestToken(second.tokenUrl, credentials), 401, "invalid_client");
      await assertAuthError(guard.verify(token), "invalid_token", 401);
      assert.equal((await second.provider.clients.get(credentials.clientId)).active, false);
    });

    test("tokens.revoke twice and concurrently", async () => {
      const database = await createDatabase();
      const [first, second] = await twoInstances(database);
      const credentials = await first.provider.clients.create({ name: "orders", scopes: ["read"] });
      const token = await issueToken(first.tokenUrl, credentials);
      const { jti, exp } = decodeJwt(token).payload;
      const expiresAt = new Date(exp * 1000);

      await first.provider.tokens.revoke(jti, expiresAt);
      await first.provider.tokens.revoke(jti, expiresAt);
      await Promise.all([
        first.provider.tokens.revoke(jti, expiresAt),
        second.provider.tokens.revoke(jti, expiresAt),
        second.provider.tokens.revoke(jti, expiresAt),
      ]);

      assert.deepEqual(await second.storage.findRevokedToken(jti), { jti, expiresAt });
      if (backend.sql) assert.equal(await database.count(tableName("revoked_tokens")), 1);
    });

    test("concurrent promotion of a pending secret", async () => {
      const database = await createDatabase();
      const [first, second] = await twoInstances(database);
      const original = await first.provider.clients.create({ name: "orders", scopes: ["read"] });
      const overlapEnd = new Date(Date.now() + 1000);
      const rotated = await first.provider.clients.rotateSecret(original.clientId, { expiresAt: overlapEnd });
      const pending = await first.storage.findClient(original.clientId);
      await sleep(overlapEnd.getTime() - Date.now() + 50);

      // Both instances see the ended overlap at once and promote the secret.
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, index) => requestToken([first, second][index % 2].tokenUrl, rotated)),
      );

      for (const response of responses) assert.equal(response.status, 200, response.text);
      const promoted = await second.storage.findClient(original.clientId);
      assert.equal(promoted.currentSecretHash, pending.nextSecretHash);
      assert.equal(promoted.currentSecretCreatedAt.toISOString(), pending.nextSecretCreatedAt.toISOString());
      assert.equal(promoted.nextSecretHash, null);
      assert.equal(promoted.nextSecretExpiresAt, null);
      assertOAuthError(await requestToken(second.tokenUrl, original), 401, "invalid_client");
      assert.equal((await requestToken(first.tokenUrl, rotated)).status, 200);
    });

    test("concurrent bcrypt hash upgrade", async () => {
      const database = await createDatabase();
      const [first, second] = await twoInstances(database);
      const client = await seedClient(first.storage, {
        clientId: `svc_${crypto.randomBytes(16).toString("hex")}`,
        secretHash: ENCODED_SECRET_BCRYPT,
      });
      const credentials = { clientId: client.clientId, clientSecret: ENCODED_SECRET };

      const responses = await Promise.all(
        Array.from({ length: 4 }, (_, index) => requestToken([first, second][index % 2].tokenUrl, credentials)),
      );

      for (const response of responses) assert.equal(response.status, 200, response.text);
      const stored = await first.storage.findClient(client.clientId);
      assert.match(stored.currentSecretHash, /^sha256:/);
      assert.equal((await requestToken(second.tokenUrl, credentials)).status, 200);
    });

    test("instances starting together converge on one key", async () => {
      const database = await createDatabase();
      const [first, second] = await twoInstances(database);
      const credentials = await first.provider.clients.create({ name: "orders", scopes: ["read"] });

      // Both create their first key at once, from token and JWKS requests.
      const [firstToken, secondToken] = await Promise.all([
        issueToken(first.tokenUrl, credentials),
        issueToken(second.tokenUrl, credentials),
        get(first.jwksUrl),
        get(second.jwksUrl),
      ]);

      // A provider that reads storage afresh retires all but one open-ended key.
      const third = await instance(database);
      const thirdToken = await issueToken(third.tokenUrl, credentials);
      const now = Date.now();
      const signing = (await third.storage.getSigningKeys()).filter(
        (key) => key.notBefore.getTime() <= now && key.notAfter === null,
      );
      assert.equal(signing.length, 1, "exactly one key signs without an end date");
      assert.equal(decodeJwt(thirdToken).header.kid, signing[0].keyId);

      // Tokens signed by a retired key still verify during its overlap.
      const guard = guardFor(third);
      for (const token of [firstToken, secondToken, thirdToken]) {
        assert.equal((await guard.verify(token)).clientId, credentials.clientId);
      }
    });

    test("key rotated on one instance signs on a new one", async () => {
      const database = await createDatabase();
      const first = await instance(database);
      const credentials = await first.provider.clients.create({ name: "orders", scopes: ["read"] });
      const before = decodeJwt(await issueToken(first.tokenUrl, credentials)).header.kid;

      const { keyId } = await first.provider.keys.rotate();
      const second = await instance(database);

      assert.notEqual(keyId, before);
      assert.equal(decodeJwt(await issueToken(second.tokenUrl, credentials)).header.kid, keyId);
      const kids = (await get(second.jwksUrl)).json.keys.map((key) => key.kid);
      assert.deepEqual(new Set(kids), new Set([before, keyId]));
    });

    test("usage times are not written per token", async () => {
      const database = await createDatabase();
      const { provider, tokenUrl } = await serve(database.storage());
      const credentials = await provider.clients.create({ name: "orders", scopes: ["read"] });

      await issueToken(tokenUrl, credentials);
      const first = await provider.clients.get(credentials.clientId);
      for (let index = 0; index < 3; index += 1) await issueToken(tokenUrl, credentials);
      const later = await provider.clients.get(credentials.clientId);

      assert.ok(first.lastSeenAt instanceof Date, "lastSeenAt is recorded on first use");
      assert.ok(first.currentSecretLastUsedAt instanceof Date, "the secret's last use is recorded");
      assert.equal(later.lastSeenAt.getTime(), first.lastSeenAt.getTime());
      assert.equal(later.currentSecretLastUsedAt.getTime(), first.currentSecretLastUsedAt.getTime());
    });
  });

  if (backend.sql) defineTableTests();
  if (backend.fixture) defineReferenceTests();
  // Memory and the addon's own SQLite file have no handle to take away from the provider.
  if (backend.closable) defineFailureTests();

  /** Returns the default name of `table` ("clients", "signing_keys", "revoked_tokens"). */
  function tableName(table) {
    return `trustline_${table}`;
  }

  function defineTableTests() {
    describe(`SQL tables: ${backend.name}`, () => {
      test("default tables match reference columns", async () => {
        const database = await createDatabase();
        const { provider, tokenUrl } = await serve(database.storage());
        await issueToken(tokenUrl, await provider.clients.create({ name: "a", scopes: ["x"] }));

        assert.deepEqual(await database.tableNames(), [
          "trustline_clients",
          "trustline_revoked_tokens",
          "trustline_signing_keys",
        ]);
        for (const [table, columns] of Object.entries(REFERENCE_COLUMNS)) {
          assert.deepEqual(await database.columns(`trustline_${table}`), columns, `columns of trustline_${table}`);
        }
      });

      test("instances creating tables at once", async () => {
        const database = await createDatabase();
        const instances = Array.from({ length: 4 }, () => database.storage());

        // Each storage object creates the missing tables before its first query.
        const results = await Promise.allSettled(instances.map((storage) => storage.listClients()));

        for (const result of results) assert.equal(result.status, "fulfilled", String(result.reason?.message));
        assert.equal((await database.tableNames()).length, 3);
      });

      test("tablePrefix names and separates tables", async () => {
        const database = await createDatabase();
        const blue = await serve(database.storage({ tablePrefix: "blue_" }));
        const green = await serve(database.storage({ tablePrefix: "green_" }));

        const credentials = await blue.provider.clients.create({ name: "blue-client", scopes: ["x"] });
        const token = await issueToken(blue.tokenUrl, credentials);
        await blue.provider.tokens.revoke(decodeJwt(token).payload.jti, new Date(Date.now() + 60_000));
        await green.provider.clients.list();

        assert.deepEqual(await database.tableNames(), [
          "blue_clients",
          "blue_revoked_tokens",
          "blue_signing_keys",
          "green_clients",
          "green_revoked_tokens",
          "green_signing_keys",
        ]);
        assert.equal(await database.count("blue_clients"), 1);
        assert.equal(await database.count("blue_revoked_tokens"), 1);
        assert.equal(await database.count("green_clients"), 0);
        assertOAuthError(await requestToken(green.tokenUrl, credentials), 401, "invalid_client");
      });

      test("tables option names each table", async () => {
        const database = await createDatabase();
        const tables = { clients: "service_clients", signingKeys: "jwt_keys", revokedTokens: "revoked_jtis" };
        const { provider, tokenUrl } = await serve(database.storage({ tables }));

        const credentials = await provider.clients.create({ name: "a", scopes: ["x"] });
        const token = await issueToken(tokenUrl, credentials);
        await provider.tokens.revoke(decodeJwt(token).payload.jti, new Date(Date.now() + 60_000));

        assert.deepEqual(await database.tableNames(), ["jwt_keys", "revoked_jtis", "service_clients"]);
        assert.equal(await database.count("service_clients"), 1);
        assert.equal(await database.count("jwt_keys"), 1);
        assert.equal(await database.count("revoked_jtis"), 1);
      });

      test("invalid table name is rejected", async () => {
        const database = await createDatabase();

        assert.throws(() => database.storage({ tablePrefix: "bad-prefix;" }), /invalid table name/);
      });
    });
  }

  function defineReferenceTests() {
    const fixture = reference.backends[backend.fixture];
    const ISSUER = reference.issuer;
    const orders = fixture.clients["orders-api"];
    const billing = fixture.clients["billing-worker"];

    /** Serves a provider and a guard on a copy of the reference database. */
    async function openReference() {
      const database = await createDatabase({ fixture: true });
      const context = await serve(database.storage(), { issuer: ISSUER, token: { ttl: reference.tokenTtlSeconds } });
      const guard = createGuard({ issuer: ISSUER, jwksUrl: context.jwksUrl, storage: context.storage });
      return { ...context, database, guard };
    }

    describe(`reference 0.1 database: ${backend.name}`, () => {
      test("reads both clients", async () => {
        const { provider } = await openReference();

        const clients = new Map((await provider.clients.list()).map((client) => [client.name, client]));

        assert.equal(clients.size, 2);
        const ordersClient = clients.get("orders-api");
        assert.equal(ordersClient.clientId, orders.clientId);
        assert.deepEqual(ordersClient.scopes, orders.scopes);
        assert.equal(ordersClient.active, true);
        assert.equal(ordersClient.hasPendingSecretRotation, true);
        assert.equal(ordersClient.nextSecretExpiresAt.toISOString(), orders.nextSecretExpiresAt);
        assert.equal(ordersClient.tokensInvalidBefore.toISOString(), orders.tokensInvalidBefore);
        const billingClient = clients.get("billing-worker");
        assert.equal(billingClient.clientId, billing.clientId);
        assert.deepEqual(billingClient.scopes, billing.scopes);
        assert.equal(billingClient.active, false);
      });

      test("current and next secrets issue tokens", async () => {
        const { tokenUrl, storage } = await openReference();

        for (const role of ["current", "next"]) {
          // Twice each: the first use replaces the bcrypt hash.
          for (const auth of ["basic", "post"]) {
            const response = await requestToken(tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets[role], auth });
            assert.equal(response.status, 200, `${role} secret, ${auth}: ${response.text}`);
          }
        }
        const stored = await storage.findClient(orders.clientId);
        assert.match(stored.currentSecretHash, /^sha256:/);
        assert.match(stored.nextSecretHash, /^sha256:/);
        const billingResponse = await requestToken(tokenUrl, { clientId: billing.clientId, clientSecret: billing.secrets.current });
        assertOAuthError(billingResponse, 401, "invalid_client");
      });

      test("guard checks stored revocation and disable", async () => {
        const { guard } = await openReference();

        assert.equal((await guard.verify(fixture.tokens.control)).clientId, orders.clientId);
        assert.equal((await guard.verify(fixture.tokens.afterKeyRotation)).clientId, orders.clientId);
        await assertAuthError(guard.verify(fixture.tokens.revoked), "invalid_token", 401);
        await assertAuthError(guard.verify(fixture.tokens.billingWorkerBeforeDisable), "invalid_token", 401);
      });

      test("jwks lists both keys; new tokens use current", async () => {
        const { jwksUrl, tokenUrl, guard } = await openReference();

        const kids = (await get(jwksUrl)).json.keys.map((key) => key.kid);
        const token = await issueToken(tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets.current });

        assert.deepEqual(new Set(kids), new Set([fixture.signingKeys.retiring.keyId, fixture.signingKeys.current.keyId]));
        assert.equal(decodeJwt(token).header.kid, fixture.signingKeys.current.keyId);
        assert.equal((await guard.verify(token)).clientId, orders.clientId);
      });

      test("writes keep the stored formats", async () => {
        const { provider, tokenUrl, database } = await openReference();

        await requestToken(tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets.next });
        await provider.clients.rename(orders.clientId, "orders-api-v2");
        await provider.clients.updateScopes(orders.clientId, ["read:orders"]);
        const created = await provider.clients.create({ name: "new-client", scopes: ["a", "b"] });
        await provider.clients.disable(created.clientId);
        await provider.keys.rotate();
        await provider.tokens.revoke(crypto.randomUUID(), new Date("2030-01-01T00:00:00.000Z"));

        const tables = {
          clients: await database.select("trustline_clients"),
          signing_keys: await database.select("trustline_signing_keys"),
          revoked_tokens: await database.select("trustline_revoked_tokens"),
        };
        for (const [table, rows] of Object.entries(tables)) {
          for (const row of rows) {
            for (const [column, value] of Object.entries(row)) {
              if (!column.endsWith("_at") && column !== "tokens_invalid_before") continue;
              assert.ok(value === null || ISO_MS.test(value), `${table}.${column} = ${JSON.stringify(value)}`);
            }
          }
        }
        const renamed = tables.clients.find((row) => row.client_id === orders.clientId);
        assert.equal(renamed.name, "orders-api-v2");
        assert.equal(renamed.scopes, JSON.stringify(["read:orders"]));
        const disabled = tables.clients.find((row) => row.client_id === created.clientId);
        assert.equal(disabled.scopes, JSON.stringify(["a", "b"]));
        // The column type decides the value: boolean in PostgreSQL, 0/1 in SQLite and MySQL.
        assert.equal(Number(disabled.active), 0);
        assert.equal(Number(renamed.active), 1);
        assert.equal(tables.signing_keys.length, 3);
        assert.equal(tables.revoked_tokens.length, 2);
      });

      test("opening keeps the schema", async () => {
        const database = await createDatabase({ fixture: true });
        const columnsBefore = {};
        for (const table of await database.tableNames()) columnsBefore[table] = await database.columns(table);

        const { provider, tokenUrl } = await serve(database.storage(), { issuer: ISSUER });
        await provider.clients.list();
        await requestToken(tokenUrl, { clientId: orders.clientId, clientSecret: orders.secrets.current });

        const columnsAfter = {};
        for (const table of await database.tableNames()) columnsAfter[table] = await database.columns(table);
        assert.deepEqual(columnsAfter, columnsBefore);
      });
    });
  }

  function defineFailureTests() {
    describe(`storage failures: ${backend.name}`, () => {
      test("closed handle gives 503, not invalid_client", async () => {
        const database = await createDatabase();
        const { provider, tokenUrl, jwksUrl, issuer, storage } = await serve(database.storage());
        const credentials = await provider.clients.create({ name: "orders", scopes: ["read"] });
        const token = await issueToken(tokenUrl, credentials);
        const guard = createGuard({ issuer, jwksUrl, storage });
        await guard.verify(token);

        await database.closeHandles();

        const response = await requestToken(tokenUrl, credentials);
        assert.equal(response.status, 503, response.text);
        assert.equal(response.headers.get("retry-after"), "5");
        assert.equal(response.json.error, "temporarily_unavailable");
        await assertAuthError(guard.verify(token), "storage_unavailable", 503);
        await assertAuthError(provider.clients.list(), "storage_unavailable", 503);
      });
    });
  }
}
