// trustline/frameworks/hono on a real Hono 4 app served by @hono/node-server
// on 127.0.0.1: the provider sub-app under a mount path, the guard with
// c.get("trustline"), requireScopes, and bad input. tests/bun/ runs the same
// adapters on Bun.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createGuard } from "trustline";
import { createHonoGuard, createHonoProvider, requireScopes } from "trustline/frameworks/hono";

import {
  acceptedAuthorizations,
  assertGuardError,
  assertOAuthError,
  AUDIENCE,
  basicAuth,
  CLIENT_SCOPES,
  fetchToken,
  lateProvider,
  oversizedForm,
  postForm,
  rejectedAuthorizations,
  send,
  setUpAuth,
} from "./helpers.mjs";

/** Serves a Hono app on 127.0.0.1 with @hono/node-server and returns `{ origin, close }`. */
async function listenHono(app) {
  const server = await new Promise((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Starts an app with the provider mounted at `mount` and a guarded
 * `/internal/*`. The issuer is the origin plus `issuerPath` (default: the
 * mount path). `setUp(app)` runs first.
 */
async function startApp({ mount = "/auth", issuerPath = mount === "/" ? "" : mount, setUp = () => {} } = {}) {
  const app = new Hono();
  setUp(app);
  const provider = lateProvider();
  let guard;
  app.route(mount, createHonoProvider(provider));
  app.use("/internal/*", createHonoGuard({ verify: (token) => guard.verify(token) }));
  app.get("/internal/me", (c) => {
    const identity = c.get("trustline");
    return c.json({ caller: identity.name ?? identity.clientId, scopes: identity.scopes });
  });
  app.post("/internal/orders", requireScopes("write:orders"), (c) => c.json({ ok: true }));
  app.delete("/internal/orders", requireScopes("admin"), (c) => c.json({ ok: true }));

  const server = await listenHono(app);
  const issuer = server.origin + issuerPath;
  const auth = await setUpAuth(issuer);
  provider.set(auth.provider);
  guard = auth.guard;

  const base = server.origin + (mount === "/" ? "" : mount);
  return { ...server, ...auth, issuer, tokenUrl: `${base}/token`, jwksUrl: `${base}/.well-known/jwks.json` };
}

describe("hono provider on node", () => {
  for (const mount of ["/auth", "/"]) {
    test(`issues tokens mounted at ${mount}`, async (t) => {
      const server = await startApp({ mount });
      t.after(() => server.close());

      const token = await fetchToken(server.tokenUrl, server.client);
      const jwks = await send(server.jwksUrl);
      const me = await send(`${server.origin}/internal/me`, { headers: { authorization: `Bearer ${token}` } });

      assert.equal(jwks.status, 200);
      assert.equal(jwks.headers.get("cache-control"), "public, max-age=600");
      assert.equal(me.status, 200, me.text);
      assert.deepEqual(me.json, { caller: "order-processor", scopes: CLIENT_SCOPES });
    });
  }

  test("mount path differs from the issuer path", async (t) => {
    const server = await startApp({ mount: "/oauth", issuerPath: "/auth" });
    t.after(() => server.close());

    const response = await send(server.jwksUrl);

    assert.equal(response.status, 404);
    assert.equal(response.json.error, "not_found");
  });

  test("body already read by middleware", async (t) => {
    const server = await startApp({
      setUp: (app) =>
        app.use("/auth/*", async (c, next) => {
          // An audit middleware that reads the body first, as text.
          c.set("bodyLength", (await c.req.text()).length);
          await next();
        }),
    });
    t.after(() => server.close());

    const token = await fetchToken(server.tokenUrl, server.client);

    assert.ok(token);
  });

  test("wrong methods are 405", async (t) => {
    const server = await startApp();
    t.after(() => server.close());

    const getToken = await send(server.tokenUrl);
    const head = await send(server.jwksUrl, { method: "HEAD" });

    assert.equal(getToken.status, 405);
    assert.equal(getToken.headers.get("allow"), "POST");
    assert.equal(head.status, 200);
  });

  test("bad input gets OAuth errors", async (t) => {
    const server = await startApp();
    t.after(() => server.close());

    for (const bytes of [16 * 1024 + 1, 64 * 1024, 900 * 1024]) {
      const response = await postForm(server.tokenUrl, server.client, oversizedForm(bytes));
      assertOAuthError(response, 413, "invalid_request");
    }
    const atLimit = await postForm(server.tokenUrl, server.client, oversizedForm(16 * 1024));
    assert.equal(atLimit.status, 200, atLimit.text);

    const repeated = await postForm(server.tokenUrl, server.client, "grant_type=client_credentials&audience=a&audience=b");
    assertOAuthError(repeated, 400, "invalid_request");

    for (const contentType of ["application/json", "text/plain", undefined]) {
      const headers = { authorization: basicAuth(server.client) };
      if (contentType !== undefined) headers["content-type"] = contentType;
      const response = await send(server.tokenUrl, {
        method: "POST",
        headers,
        body: new TextEncoder().encode("grant_type=client_credentials"),
      });
      assertOAuthError(response, 400, "invalid_request");
    }
  });
});

describe("hono guard on node", () => {
  let server;
  let token;

  before(async () => {
    server = await startApp();
    token = await fetchToken(server.tokenUrl, server.client);
  });
  after(() => server.close());

  test("Authorization header variants accepted", async () => {
    for (const [variant, header] of Object.entries(acceptedAuthorizations(token))) {
      const response = await send(`${server.origin}/internal/me`, { headers: { authorization: header } });
      assert.equal(response.status, 200, `${variant}: ${response.text}`);
    }
  });

  test("bad Authorization headers rejected", async () => {
    for (const { name, header, status, code } of rejectedAuthorizations(token)) {
      const headers = header === undefined ? {} : { authorization: header };
      const response = await send(`${server.origin}/internal/me`, { headers });
      assertGuardError(response, status, code);
      assert.ok(!response.text.includes(token), `${name}: the response does not echo the token`);
    }
  });

  test("requireScopes on one route", async () => {
    const narrow = await fetchToken(server.tokenUrl, server.client, { scope: "read:orders" });
    const call = (method, bearer) =>
      send(`${server.origin}/internal/orders`, { method, headers: { authorization: `Bearer ${bearer}` } });

    assert.equal((await call("POST", token)).status, 200);
    const denied = await call("POST", narrow);
    assertGuardError(denied, 403, "invalid_scope");
    assert.equal(denied.headers.get("www-authenticate"), 'Bearer error="insufficient_scope"');
    assertGuardError(await call("DELETE", token), 403, "invalid_scope");
  });

  test("wrong audience is 403", async (t) => {
    const app = new Hono();
    app.get("/", createHonoGuard(createGuard({ issuer: server.issuer, audience: "billing" })), (c) => c.json({}));
    const other = await listenHono(app);
    t.after(() => other.close());

    const response = await send(other.origin, { headers: { authorization: `Bearer ${token}` } });

    assertGuardError(response, 403, "invalid_audience");
  });

  test("unexpected errors reach onError", async (t) => {
    const app = new Hono();
    const errors = [];
    app.onError((error, c) => {
      errors.push(error);
      return c.json({ error: "server_error" }, 500);
    });
    const failingGuard = { verify: async () => { throw new TypeError("verify exploded"); } };
    app.get("/", createHonoGuard(failingGuard), (c) => c.json({}));
    app.get("/unguarded", requireScopes("admin"), (c) => c.json({}));
    const other = await listenHono(app);
    t.after(() => other.close());

    const failed = await send(other.origin, { headers: { authorization: "Bearer x" } });
    const unguarded = await send(`${other.origin}/unguarded`);

    assert.equal(failed.status, 500);
    assert.equal(errors[0]?.message, "verify exploded");
    assert.equal(unguarded.status, 500);
    assert.match(errors[1]?.message ?? "", /run the trustline guard before it/);
  });
});
