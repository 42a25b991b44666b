// trustline/frameworks/fetch and the plain Web Request path on Node.js:
// bearer header parsing, createFetchGuard, and the body size limit of
// provider.handle. tests/bun/ drives the same path through Bun.serve.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { AuthError, createProvider, memoryStorage } from "trustline";
import { authErrorResponse, bearerToken, createFetchGuard } from "trustline/frameworks/fetch";

import { AUDIENCE, basicAuth, oversizedForm, setUpAuth } from "./helpers.mjs";

const ISSUER = "https://auth.fetch-tests.trustline.test";
const LIMIT = 16 * 1024;

describe("bearerToken", () => {
  test("accepted header forms", () => {
    const cases = [
      ["Bearer abc", "abc"],
      ["bearer abc", "abc"],
      ["BEARER abc", "abc"],
      ["bEaReR abc", "abc"],
      ["Bearer     abc", "abc"],
      ["Bearer\tabc", "abc"],
      ["  Bearer abc  ", "abc"],
      ["Bearer abc.def.ghi", "abc.def.ghi"],
      [["Bearer first", "Bearer second"], "first"],
    ];
    for (const [header, token] of cases) {
      assert.equal(bearerToken(header), token, JSON.stringify(header));
    }
  });

  test("rejected header forms", () => {
    for (const header of [undefined, null, "", "   ", "Bearer", "Bearer   ", "Basic abc", "Token abc", "abc", []]) {
      assert.throws(
        () => bearerToken(header),
        (error) => error instanceof AuthError && error.code === "missing_token" && error.status === 401,
        JSON.stringify(header),
      );
    }
  });

  test("credential without scheme not echoed", () => {
    const secretLooking = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJl";
    const error = (() => {
      try {
        bearerToken(secretLooking);
      } catch (caught) {
        return caught;
      }
    })();

    assert.equal(error.code, "missing_token");
    assert.ok(!error.message.includes(secretLooking));
    assert.match(error.message, /has no Bearer scheme/);
  });

  test("scheme name is echoed", () => {
    assert.throws(() => bearerToken("Basic abc"), /"Basic" scheme/);
  });
});

describe("authErrorResponse", () => {
  test("status, body and challenge", async () => {
    const response = authErrorResponse(new AuthError("invalid_token", "the token has expired", 401));

    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.deepEqual(await response.json(), { error: "invalid_token", message: "the token has expired" });
  });

  test("403 without challenge except scope", () => {
    const audience = authErrorResponse(new AuthError("invalid_audience", "wrong audience", 403));
    const scope = authErrorResponse(new AuthError("invalid_scope", "missing scope", 403));

    assert.equal(audience.headers.get("www-authenticate"), null);
    assert.equal(scope.headers.get("www-authenticate"), 'Bearer error="insufficient_scope"');
  });
});

describe("createFetchGuard", () => {
  /** Issues a token through provider.handle, without a server. */
  async function issueToken(provider, client, scope) {
    const form = new URLSearchParams({ grant_type: "client_credentials", audience: AUDIENCE });
    if (scope) form.set("scope", scope);
    const response = await provider.handle(
      new Request(`${ISSUER}/token`, {
        method: "POST",
        headers: { authorization: basicAuth(client), "content-type": "application/x-www-form-urlencoded" },
        body: form,
      }),
    );
    assert.equal(response.status, 200);
    return (await response.json()).access_token;
  }

  /** A guard that fetches the JWKS from the provider in memory instead of over the network. */
  async function setUp() {
    const auth = await setUpAuth(ISSUER);
    const originalFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => auth.provider.handle(new Request(input, init));
    return { ...auth, restore: () => (globalThis.fetch = originalFetch) };
  }

  test("protected handler gets the identity", async (t) => {
    const auth = await setUp();
    t.after(auth.restore);
    const protect = createFetchGuard(auth.guard);
    const handler = protect((request, identity, extra) => Response.json({ caller: identity.name, extra }));
    const token = await issueToken(auth.provider, auth.client);

    const response = await handler(new Request("http://svc.test/", { headers: { authorization: `bearer  ${token} ` } }), "server");

    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { caller: "order-processor", extra: "server" });
  });

  test("missing token and extra scopes", async (t) => {
    const auth = await setUp();
    t.after(auth.restore);
    const protect = createFetchGuard(auth.guard);
    const admin = protect(() => new Response("ok"), { scopes: ["admin"] });
    const writer = protect(() => new Response("ok"), { scopes: ["write:orders"] });
    const narrow = await issueToken(auth.provider, auth.client, "read:orders");
    const full = await issueToken(auth.provider, auth.client);
    const call = (handler, token) =>
      handler(new Request("http://svc.test/", { headers: token ? { authorization: `Bearer ${token}` } : {} }));

    const missing = await call(admin);
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).error, "missing_token");
    assert.equal((await call(admin, full)).status, 403);
    assert.equal((await call(writer, narrow)).status, 403);
    assert.equal((await call(writer, full)).status, 200);
  });

  test("unexpected errors reject", async () => {
    const protect = createFetchGuard({ verify: async () => { throw new TypeError("verify exploded"); } });
    const handler = protect(() => new Response("ok"));

    await assert.rejects(
      handler(new Request("http://svc.test/", { headers: { authorization: "Bearer x" } })),
      /verify exploded/,
    );
  });

  test("invalid scope options rejected", () => {
    const protect = createFetchGuard({ verify: async () => ({}) });
    assert.throws(() => protect(() => new Response(""), { scopes: [] }), TypeError);
    assert.throws(() => protect(() => new Response(""), { scopes: [""] }), TypeError);
  });
});

describe("provider.handle body limit", () => {
  async function setUpProvider() {
    const provider = createProvider({ issuer: ISSUER, storage: memoryStorage() });
    const client = await provider.clients.create({ name: "limits", scopes: ["read"] });
    // Detached on purpose, as `Bun.serve({ fetch: provider.handle })` uses it.
    const handle = provider.handle;
    return { handle, client };
  }

  function tokenRequest(client, body, init = {}) {
    return new Request(`${ISSUER}/token`, {
      method: "POST",
      headers: { authorization: basicAuth(client), "content-type": "application/x-www-form-urlencoded" },
      body,
      ...init,
    });
  }

  test("exactly the limit is accepted", async () => {
    const { handle, client } = await setUpProvider();

    const response = await handle(tokenRequest(client, oversizedForm(LIMIT)));

    assert.equal(response.status, 200, await response.clone().text());
  });

  test("one byte over is 413", async () => {
    const { handle, client } = await setUpProvider();

    const response = await handle(tokenRequest(client, oversizedForm(LIMIT + 1)));
    const body = await response.json();

    assert.equal(response.status, 413);
    assert.equal(body.error, "invalid_request");
    assert.match(body.error_description, /16384 bytes/);
  });

  test("stream without length stops reading", async () => {
    const { handle, client } = await setUpProvider();
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    const totalChunks = 1024; // 64 MiB if read to the end
    let pulled = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (pulled === totalChunks) {
          controller.close();
          return;
        }
        pulled += 1;
        controller.enqueue(chunk);
      },
    });

    const response = await handle(tokenRequest(client, stream, { duplex: "half" }));
    await new Promise((resolve) => setTimeout(resolve, 100));

    assert.equal(response.status, 413);
    // The limit, then at most 1 MiB read and dropped, plus what the stream queued.
    assert.ok(pulled * chunk.byteLength <= LIMIT + 1024 * 1024 + 3 * chunk.byteLength, `pulled ${pulled} chunks`);
  });

  test("JSON content type is invalid_request", async () => {
    const { handle, client } = await setUpProvider();

    const response = await handle(
      new Request(`${ISSUER}/token`, {
        method: "POST",
        headers: { authorization: basicAuth(client), "content-type": "application/json" },
        body: JSON.stringify({ grant_type: "client_credentials" }),
      }),
    );

    assert.equal(response.status, 400);
    assert.equal((await response.json()).error, "invalid_request");
  });
});
