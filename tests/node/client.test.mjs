// trustline/client against a real provider over HTTP; token requests are
// counted on the provider's server.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { AuthError, createGuard } from "trustline";
import { createClient } from "trustline/client";

import { startEchoServer } from "./helpers/http.mjs";
import { decodeJwt } from "./helpers/jwt.mjs";
import { assertAuthError, sleepUntil, startProvider, storageKinds } from "./helpers/setup.mjs";

async function setup(t, kind, providerOptions = {}) {
  const ctx = await startProvider(t, { storage: kind.create(), ...providerOptions });
  const credentials = await ctx.provider.clients.create({
    name: "orders-api",
    scopes: ["read:orders", "write:orders", "admin"],
  });
  const makeClient = (options = {}) => createClient({ tokenUrl: ctx.tokenUrl, ...credentials, ...options });
  const tokenRequests = () => ctx.server.count("/token");
  return { ...ctx, credentials, makeClient, tokenRequests };
}

/** Returns a ClientTokenCache over a Map that records every call. */
function recordingCache() {
  const entries = new Map();
  const calls = [];
  return {
    entries,
    calls,
    async get(key) {
      calls.push(["get", key]);
      return entries.has(key) ? entries.get(key) : null;
    },
    async set(key, entry) {
      calls.push(["set", key, entry]);
      entries.set(key, entry);
    },
    async delete(key) {
      calls.push(["delete", key]);
      entries.delete(key);
    },
    callsOf(op) {
      return calls.filter((call) => call[0] === op);
    },
  };
}

for (const kind of storageKinds) {
  describe(`client (${kind.name})`, () => {
    test("getToken returns a verifiable token", async (t) => {
      const { issuer, makeClient, credentials } = await setup(t, kind);

      const token = await makeClient().getToken();

      const identity = await createGuard({ issuer }).verify(token);
      assert.equal(identity.clientId, credentials.clientId);
    });

    test("token cached until exp minus skew", async (t) => {
      const { makeClient, tokenRequests } = await setup(t, kind, { token: { ttl: 3 } });
      const client = makeClient({ refreshSkewSeconds: 1 });

      const first = await client.getToken();
      const cached = await client.getToken();

      assert.equal(cached, first);
      assert.equal(tokenRequests(), 1);
      const { exp } = decodeJwt(first).payload;
      await sleepUntil((exp - 1) * 1000 + 100);
      const refreshed = await client.getToken();
      assert.notEqual(refreshed, first);
      assert.equal(tokenRequests(), 2);
    });

    test("default refresh skew is 30 s", async (t) => {
      const { makeClient, tokenRequests } = await setup(t, kind, { token: { ttl: 32 } });
      const client = makeClient();

      const first = await client.getToken();
      assert.equal(await client.getToken(), first, "cached before exp - 30 s");
      assert.equal(tokenRequests(), 1);

      await sleepUntil((decodeJwt(first).payload.exp - 30) * 1000 + 100);
      assert.notEqual(await client.getToken(), first, "refreshed after exp - 30 s");
      assert.equal(tokenRequests(), 2);
    });

    test("concurrent getToken share one request", async (t) => {
      const { makeClient, tokenRequests } = await setup(t, kind);
      const client = makeClient();

      const tokens = await Promise.all(Array.from({ length: 8 }, () => client.getToken()));

      assert.equal(new Set(tokens).size, 1);
      assert.equal(tokenRequests(), 1);
    });

    test("custom cache shared across clients", async (t) => {
      const { makeClient, tokenRequests } = await setup(t, kind);
      const cache = recordingCache();

      const token = await makeClient({ cache, refreshSkewSeconds: 10 }).getToken();

      assert.ok(cache.callsOf("get").length >= 1, "get called");
      const sets = cache.callsOf("set");
      assert.equal(sets.length, 1, "set called once");
      const [, key, entry] = sets[0];
      assert.equal(typeof key, "string");
      assert.equal(entry.token, token);
      assert.equal(typeof entry.refreshAt, "number");
      const expectedRefreshAt = (decodeJwt(token).payload.exp - 10) * 1000;
      assert.ok(Math.abs(entry.refreshAt - expectedRefreshAt) <= 1000, `refreshAt ${entry.refreshAt} vs ${expectedRefreshAt}`);

      const other = await makeClient({ cache, refreshSkewSeconds: 10 }).getToken();
      assert.equal(other, token, "a second client reads the shared cache");
      assert.equal(tokenRequests(), 1);
      assert.equal(cache.callsOf("delete").length, 0);
    });

    test("malformed cache entry deleted and refetched", async (t) => {
      const { makeClient, tokenRequests } = await setup(t, kind);
      const cache = recordingCache();
      await makeClient({ cache }).getToken();
      const [[, key]] = cache.callsOf("set");
      const malformed = [
        "not-an-object",
        42,
        {},
        { refreshAt: Date.now() + 60_000 },
        { token: 42, refreshAt: Date.now() + 60_000 },
        { token: "x.y.z", refreshAt: "later" },
      ];

      for (const [index, entry] of malformed.entries()) {
        cache.entries.set(key, entry);
        const deletesBefore = cache.callsOf("delete").length;

        const token = await makeClient({ cache }).getToken();

        assert.equal(cache.callsOf("delete").length, deletesBefore + 1, `entry ${JSON.stringify(entry)} deleted`);
        assert.equal(cache.callsOf("delete").at(-1)[1], key);
        assert.equal(tokenRequests(), index + 2, `entry ${JSON.stringify(entry)} refetched`);
        assert.equal(token.split(".").length, 3);
        assert.equal(cache.entries.get(key).token, token, "fresh entry stored");
      }
    });

    test("stale cache entry refetched", async (t) => {
      const { makeClient, tokenRequests } = await setup(t, kind);
      const cache = recordingCache();
      const first = await makeClient({ cache }).getToken();
      const [[, key]] = cache.callsOf("set");

      cache.entries.set(key, { token: first, refreshAt: Date.now() - 1000 });
      const second = await makeClient({ cache }).getToken();

      assert.notEqual(second, first);
      assert.equal(tokenRequests(), 2);
    });

    test("cache key separates scope and audience", async (t) => {
      const { makeClient, tokenRequests } = await setup(t, kind);
      const cache = recordingCache();

      const all = await makeClient({ cache }).getToken();
      const narrow = await makeClient({ cache, scope: "read:orders" }).getToken();
      const audience = await makeClient({ cache, audience: "inventory" }).getToken();

      assert.equal(tokenRequests(), 3);
      assert.equal(decodeJwt(narrow).payload.scope, "read:orders");
      assert.equal(decodeJwt(audience).payload.aud, "inventory");
      assert.notEqual(decodeJwt(all).payload.scope, "read:orders");
    });

    test("fetch override used for token request", async (t) => {
      const { tokenUrl, makeClient, tokenRequests } = await setup(t, kind);
      const seen = [];
      const fetchOverride = async (input, init) => {
        const request = new Request(input, init);
        seen.push({ url: request.url, method: request.method });
        return globalThis.fetch(input, init);
      };

      const token = await makeClient({ fetch: fetchOverride }).getToken();

      assert.equal(token.split(".").length, 3);
      assert.equal(seen.length, 1);
      assert.equal(seen[0].url, tokenUrl);
      assert.equal(seen[0].method, "POST");
      assert.equal(tokenRequests(), 1);
    });

    test("getHeaders returns bearer header", async (t) => {
      const { makeClient } = await setup(t, kind);
      const client = makeClient();

      const headers = await client.getHeaders();

      assert.deepEqual(headers, { Authorization: `Bearer ${await client.getToken()}` });
    });

    test("client.fetch adds Authorization and keeps headers", async (t) => {
      const { makeClient } = await setup(t, kind);
      const echo = await startEchoServer();
      t.after(() => echo.close());
      const client = makeClient();
      const bearer = `Bearer ${await client.getToken()}`;

      const plain = await (await client.fetch(`${echo.origin}/orders?id=1`, {
        method: "POST",
        headers: { "x-trace-id": "abc", "content-type": "application/json" },
        body: JSON.stringify({ id: 1 }),
      })).json();
      const withHeaders = await (await client.fetch(new URL(`${echo.origin}/a`), {
        headers: new Headers({ "x-request-id": "r1" }),
      })).json();
      const fromRequest = await (await client.fetch(new Request(`${echo.origin}/b`, {
        headers: { "x-from-request": "yes" },
      }))).json();

      assert.equal(plain.headers.authorization, bearer);
      assert.equal(plain.headers["x-trace-id"], "abc");
      assert.equal(plain.headers["content-type"], "application/json");
      assert.equal(plain.method, "POST");
      assert.equal(plain.path, "/orders?id=1");
      assert.equal(plain.body, JSON.stringify({ id: 1 }));
      assert.equal(withHeaders.headers.authorization, bearer);
      assert.equal(withHeaders.headers["x-request-id"], "r1");
      assert.equal(fromRequest.headers.authorization, bearer);
      assert.equal(fromRequest.headers["x-from-request"], "yes");
    });

    test("scope option narrows token", async (t) => {
      const { makeClient } = await setup(t, kind);

      const single = await makeClient({ scope: "read:orders" }).getToken();
      const list = await makeClient({ scope: ["read:orders", "write:orders"] }).getToken();

      assert.equal(decodeJwt(single).payload.scope, "read:orders");
      assert.deepEqual(new Set(decodeJwt(list).payload.scope.split(" ")), new Set(["read:orders", "write:orders"]));
    });

    test("audience option sets aud", async (t) => {
      const { makeClient } = await setup(t, kind);

      const token = await makeClient({ audience: "inventory-service" }).getToken();

      assert.equal(decodeJwt(token).payload.aud, "inventory-service");
    });

    test("wrong secret is AuthError invalid_client", async (t) => {
      const { makeClient } = await setup(t, kind);
      const client = makeClient({ clientSecret: "wrong-secret" });

      await assertAuthError(client.getToken(), "invalid_client", 401);
      await assertAuthError(client.getHeaders(), "invalid_client", 401);
    });

    test("disallowed scope is AuthError invalid_scope", async (t) => {
      const { makeClient } = await setup(t, kind);

      await assertAuthError(makeClient({ scope: "delete:everything" }).getToken(), "invalid_scope", 400);
    });

    test("failed request is not cached", async (t) => {
      const { provider, credentials, makeClient, tokenRequests } = await setup(t, kind);
      const client = makeClient();
      await provider.clients.disable(credentials.clientId);
      await assertAuthError(client.getToken(), "invalid_client", 401);

      await provider.clients.enable(credentials.clientId);
      const token = await client.getToken();

      assert.equal(token.split(".").length, 3);
      assert.equal(tokenRequests(), 2);
    });

    test("client.fetch rejects when token request fails", async (t) => {
      const { makeClient } = await setup(t, kind);
      const echo = await startEchoServer();
      t.after(() => echo.close());

      await assert.rejects(makeClient({ clientSecret: "wrong" }).fetch(`${echo.origin}/x`), (error) => {
        assert.ok(error instanceof AuthError, `AuthError, got ${error}`);
        assert.equal(error.code, "invalid_client");
        return true;
      });
      assert.equal(echo.requests.length, 0, "the resource server was not called");
    });
  });
}
