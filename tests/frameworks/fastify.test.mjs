// trustline/frameworks/fastify on real Fastify 5 servers on 127.0.0.1: the
// provider plugin with and without @fastify/formbody and under a prefix, the
// preHandler guard, requireScopes, and bad input.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import formbody from "@fastify/formbody";
import Fastify from "fastify";
import { createGuard } from "trustline";
import { createFastifyGuard, createFastifyProvider, requireScopes } from "trustline/frameworks/fastify";

import {
  acceptedAuthorizations,
  assertGuardError,
  assertOAuthError,
  AUDIENCE,
  basicAuth,
  CLIENT_SCOPES,
  fetchToken,
  lateProvider,
  PROVIDER_ENTRY_POINTS,
  oversizedForm,
  postForm,
  rejectedAuthorizations,
  send,
  setUpAuth,
} from "./helpers.mjs";

/**
 * Starts a Fastify app with the provider plugin under `prefix` and a guarded
 * `GET /internal`, listening on 127.0.0.1. The issuer is the origin plus
 * `issuerPath` (default: the prefix). `setUp(app)` runs first.
 */
async function startApp({
  prefix = "",
  issuerPath = prefix,
  setUp = async () => {},
  fastifyOptions = {},
  entryPoint = "plain values",
} = {}) {
  const app = Fastify(fastifyOptions);
  await setUp(app);
  const provider = lateProvider(entryPoint);
  const guard = { verify: (token) => auth.guard.verify(token) };
  await app.register(createFastifyProvider(provider), prefix ? { prefix } : {});
  app.get("/internal", { preHandler: createFastifyGuard(guard) }, async (request) => ({
    caller: request.trustline.name ?? request.trustline.clientId,
    scopes: request.trustline.scopes,
  }));

  await app.listen({ port: 0, host: "127.0.0.1" });
  const origin = `http://127.0.0.1:${app.server.address().port}`;
  const issuer = origin + issuerPath;
  const auth = await setUpAuth(issuer);
  provider.set(auth.provider);

  return {
    ...auth,
    app,
    origin,
    issuer,
    tokenUrl: `${origin}${prefix}/token`,
    jwksUrl: `${origin}${prefix}/.well-known/jwks.json`,
    close: () => app.close(),
  };
}

for (const entryPoint of PROVIDER_ENTRY_POINTS) {
  describe(`fastify provider (${entryPoint})`, () => {
    const start = (options = {}) => startApp({ ...options, entryPoint });

    for (const [label, options] of [
      ["without formbody", {}],
      ["with formbody", { setUp: (app) => app.register(formbody) }],
      ["under a prefix", { prefix: "/auth" }],
      ["with formbody under a prefix", { prefix: "/auth", setUp: (app) => app.register(formbody) }],
    ]) {
      test(`issues tokens ${label}`, async (t) => {
        const server = await start(options);
        t.after(() => server.close());

        const token = await fetchToken(server.tokenUrl, server.client);
        const repeated = await postForm(server.tokenUrl, server.client, "grant_type=client_credentials&grant_type=client_credentials");
        const jwks = await send(server.jwksUrl);
        const internal = await send(`${server.origin}/internal`, { headers: { authorization: `Bearer ${token}` } });

        assertOAuthError(repeated, 400, "invalid_request");
        assert.equal(jwks.status, 200);
        assert.equal(jwks.headers.get("cache-control"), "public, max-age=600");
        assert.equal(internal.status, 200, internal.text);
        assert.deepEqual(internal.json, { caller: "order-processor", scopes: CLIENT_SCOPES });
      });
    }

    test("formbody still parses the app's own routes", async (t) => {
      const server = await start({
        setUp: async (app) => {
          await app.register(formbody);
          app.post("/echo", async (request) => request.body);
        },
      });
      t.after(() => server.close());

      const response = await send(`${server.origin}/echo`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "a=1&b=2",
      });

      assert.deepEqual(response.json, { a: "1", b: "2" });
    });

    test("prefix differs from the issuer path", async (t) => {
      const server = await start({ prefix: "/oauth", issuerPath: "/auth" });
      t.after(() => server.close());

      const response = await send(server.jwksUrl);

      assert.equal(response.status, 404);
      assert.equal(response.json.error, "not_found");
    });

    test("HEAD and wrong methods", async (t) => {
      const server = await start();
      t.after(() => server.close());

      const head = await send(server.jwksUrl, { method: "HEAD" });
      const getToken = await send(server.tokenUrl);
      const postJwks = await send(server.jwksUrl, { method: "POST", body: "" });

      assert.equal(head.status, 200);
      assert.equal(head.text, "");
      assert.equal(getToken.status, 405);
      assert.equal(getToken.headers.get("allow"), "POST");
      assert.equal(postJwks.status, 405);
    });

    test("oversized bodies are 413", async (t) => {
      const server = await start({ setUp: (app) => app.register(formbody) });
      t.after(() => server.close());

      for (const bytes of [16 * 1024 + 1, 64 * 1024, 900 * 1024, 8 * 1024 * 1024]) {
        const response = await postForm(server.tokenUrl, server.client, oversizedForm(bytes));
        assertOAuthError(response, 413, "invalid_request");
      }
      const atLimit = await postForm(server.tokenUrl, server.client, oversizedForm(16 * 1024));
      assert.equal(atLimit.status, 200, atLimit.text);
    });

    test("wrong and missing content types", async (t) => {
      const server = await start({ setUp: (app) => app.register(formbody) });
      t.after(() => server.close());

      for (const contentType of ["text/plain", "application/json", "multipart/form-data; boundary=x", "nonsense", "a/b/c;;", undefined]) {
        const headers = { authorization: basicAuth(server.client) };
        if (contentType !== undefined) headers["content-type"] = contentType;
        const response = await send(server.tokenUrl, {
          method: "POST",
          headers,
          body: new TextEncoder().encode("grant_type=client_credentials"),
        });
        assert.notEqual(response.status, 500, `${contentType}: ${response.text}`);
        assertOAuthError(response, response.status, "invalid_request");
        assert.ok([400, 415].includes(response.status), `${contentType}: status ${response.status}`);
      }
    });

    test("errors from handle reach the app's error handler", async (t) => {
      const app = Fastify();
      const errors = [];
      app.setErrorHandler(async (error, request, reply) => {
        errors.push(error);
        return reply.code(503).send({ error: "unavailable" });
      });
      await app.register(createFastifyProvider({ handle: async () => { throw new Error("storage is down"); } }));
      await app.listen({ port: 0, host: "127.0.0.1" });
      t.after(() => app.close());

      const response = await send(`http://127.0.0.1:${app.server.address().port}/.well-known/jwks.json`);

      assert.equal(response.status, 503);
      assert.equal(errors[0]?.message, "storage is down");
    });
  });
}

describe("fastify guard", () => {
  let server;
  let token;

  before(async () => {
    server = await startApp({ prefix: "/auth" });
    token = await fetchToken(server.tokenUrl, server.client);
  });
  after(() => server.close());

  test("Authorization header variants accepted", async () => {
    for (const [variant, header] of Object.entries(acceptedAuthorizations(token))) {
      const response = await send(`${server.origin}/internal`, { headers: { authorization: header } });
      assert.equal(response.status, 200, `${variant}: ${response.text}`);
    }
  });

  test("bad Authorization headers rejected", async () => {
    for (const { name, header, status, code } of rejectedAuthorizations(token)) {
      const headers = header === undefined ? {} : { authorization: header };
      const response = await send(`${server.origin}/internal`, { headers });
      assertGuardError(response, status, code);
      assert.ok(!response.text.includes(token), `${name}: the response does not echo the token`);
    }
  });

  test("hook for a plugin's routes, scopes per route", async (t) => {
    const app = Fastify();
    const guard = createGuard({ issuer: server.issuer, audience: AUDIENCE });
    await app.register(async (scope) => {
      scope.addHook("preHandler", createFastifyGuard(guard));
      scope.get("/orders", async (request) => ({ caller: request.trustline.clientId }));
      scope.post("/orders", { preHandler: requireScopes("write:orders") }, async () => ({ ok: true }));
      scope.delete("/orders", { preHandler: requireScopes(["admin"]) }, async () => ({ ok: true }));
    }, { prefix: "/api" });
    app.get("/health", async () => ({ ok: true }));
    await app.listen({ port: 0, host: "127.0.0.1" });
    t.after(() => app.close());
    const origin = `http://127.0.0.1:${app.server.address().port}`;
    const narrow = await fetchToken(server.tokenUrl, server.client, { scope: "read:orders" });
    const call = (method, bearer) => send(`${origin}/api/orders`, { method, headers: { authorization: `Bearer ${bearer}` } });

    assert.equal((await send(`${origin}/health`)).status, 200, "routes outside the plugin are not guarded");
    assert.equal((await call("GET", narrow)).status, 200);
    assert.equal((await call("POST", token)).status, 200);
    assertGuardError(await call("POST", narrow), 403, "invalid_scope");
    assertGuardError(await call("DELETE", token), 403, "invalid_scope");
    assertGuardError(await send(`${origin}/api/orders`), 401, "missing_token");
  });

  test("wrong audience is 403", async (t) => {
    const app = Fastify();
    app.get("/", { preHandler: createFastifyGuard(createGuard({ issuer: server.issuer, audience: "billing" })) }, async () => ({}));
    await app.listen({ port: 0, host: "127.0.0.1" });
    t.after(() => app.close());

    const response = await send(`http://127.0.0.1:${app.server.address().port}/`, {
      headers: { authorization: `Bearer ${token}` },
    });

    assertGuardError(response, 403, "invalid_audience");
  });

  test("unexpected errors reach the error handler", async (t) => {
    const app = Fastify();
    const errors = [];
    app.setErrorHandler(async (error, request, reply) => {
      errors.push(error);
      return reply.code(500).send({ error: "server_error" });
    });
    const failingGuard = { verify: async () => { throw new TypeError("verify exploded"); } };
    app.get("/", { preHandler: createFastifyGuard(failingGuard) }, async () => ({}));
    app.get("/unguarded", { preHandler: requireScopes("admin") }, async () => ({}));
    await app.listen({ port: 0, host: "127.0.0.1" });
    t.after(() => app.close());
    const origin = `http://127.0.0.1:${app.server.address().port}`;

    const failed = await send(`${origin}/`, { headers: { authorization: "Bearer x" } });
    const unguarded = await send(`${origin}/unguarded`);

    assert.equal(failed.status, 500);
    assert.equal(errors[0]?.message, "verify exploded");
    assert.equal(unguarded.status, 500);
    assert.match(errors[1]?.message ?? "", /run the trustline guard before it/);
  });
});
