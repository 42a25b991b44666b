// trustline/frameworks/express on real Express 4 and 5 apps served on
// 127.0.0.1: the provider middleware (at the root, mounted under a path,
// behind body parsers) and the guard (request.trustline, error responses,
// requireScopes, unexpected errors).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import express5 from "express";
import express4 from "express4";
import { createExpressGuard, createExpressProvider, requireScopes } from "trustline/frameworks/express";

import {
  acceptedAuthorizations,
  assertGuardError,
  assertOAuthError,
  AUDIENCE,
  basicAuth,
  CLIENT_SCOPES,
  fetchToken,
  listenExpress,
  oversizedForm,
  postForm,
  PROVIDER_ENTRY_POINTS,
  providerThrough,
  rejectedAuthorizations,
  send,
  setUpAuth,
} from "./helpers.mjs";

const EXPRESS_VERSIONS = [
  { name: "express 4", express: express4, major: 4 },
  { name: "express 5", express: express5, major: 5 },
];

/**
 * Builds the README's example app: provider and guard both mounted with
 * `app.use` at the root, then the app's own route. `setUp(app)` may add
 * middleware before them. The issuer is the server's origin plus `path`.
 */
async function startReadmeApp(express, { path = "", mount = path, setUp = () => {}, entryPoint = "plain values" } = {}) {
  const app = express();
  setUp(app);
  const server = await listenExpress(app);
  const issuer = server.origin + path;
  const auth = await setUpAuth(issuer);

  if (mount) {
    app.use(mount, createExpressProvider(providerThrough(auth.provider, entryPoint)));
  } else {
    app.use(createExpressProvider(providerThrough(auth.provider, entryPoint)));
  }
  app.use(createExpressGuard(auth.guard));
  app.get("/internal", (request, response) => {
    response.json({ caller: request.trustline?.name ?? request.trustline?.clientId, scopes: request.trustline.scopes });
  });

  return { ...server, ...auth, issuer, tokenUrl: `${issuer}/token`, jwksUrl: `${issuer}/.well-known/jwks.json` };
}

for (const { name, express, major } of EXPRESS_VERSIONS) {
  for (const entryPoint of PROVIDER_ENTRY_POINTS) {
    describe(`${name} provider (${entryPoint})`, () => {
      const start = (options = {}) => startReadmeApp(express, { ...options, entryPoint });

      test("installed major version", async () => {
        const { default: manifest } = await import(major === 4 ? "express4/package.json" : "express/package.json", {
          with: { type: "json" },
        });
        assert.equal(Number(manifest.version.split(".")[0]), major);
      });

      test("README app issues and verifies", async (t) => {
        const app = await start();
        t.after(() => app.close());

        const token = await fetchToken(app.tokenUrl, app.client);
        const response = await send(`${app.origin}/internal`, { headers: { authorization: `Bearer ${token}` } });

        assert.equal(response.status, 200, response.text);
        assert.deepEqual(response.json, { caller: "order-processor", scopes: CLIENT_SCOPES });
      });

      test("JWKS and HEAD", async (t) => {
        const app = await start();
        t.after(() => app.close());

        const jwks = await send(app.jwksUrl);
        assert.equal(jwks.status, 200);
        assert.equal(jwks.headers.get("cache-control"), "public, max-age=600");
        assert.ok(jwks.json.keys.length >= 1);

        const head = await send(app.jwksUrl, { method: "HEAD" });
        assert.equal(head.status, 200);
        assert.equal(head.text, "");
      });

      test("client_secret_post in the body", async (t) => {
        const app = await start();
        t.after(() => app.close());

        const response = await send(app.tokenUrl, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "client_credentials",
            client_id: app.client.clientId,
            client_secret: app.client.clientSecret,
          }),
        });
        assert.equal(response.status, 200, response.text);
      });

      test("other paths reach the app", async (t) => {
        const app = await start();
        t.after(() => app.close());

        // The guard responds, not the provider: the provider let the request through.
        const response = await send(`${app.origin}/internal`);
        assertGuardError(response, 401, "missing_token");
      });

      test("GET on the token path is 405", async (t) => {
        const app = await start();
        t.after(() => app.close());

        const response = await send(app.tokenUrl);
        assert.equal(response.status, 405);
        assert.equal(response.headers.get("allow"), "POST");
      });

      test("mounted under the issuer path", async (t) => {
        const app = await start({ path: "/auth" });
        t.after(() => app.close());

        const token = await fetchToken(app.tokenUrl, app.client);
        const jwks = await send(app.jwksUrl);
        const atRoot = await send(`${app.origin}/.well-known/jwks.json`);

        assert.ok(token);
        assert.equal(jwks.status, 200);
        // Nothing is mounted at the root, so the guard responds there.
        assert.equal(atRoot.status, 401);
      });

      test("mount path differs from the issuer path", async (t) => {
        const app = await start({ path: "/auth", mount: "/oauth" });
        t.after(() => app.close());

        const response = await send(`${app.origin}/oauth/.well-known/jwks.json`);

        assert.equal(response.status, 404);
        assert.equal(response.json.error, "not_found");
      });

      test("nested router keeps the full path", async (t) => {
        const app = express();
        const server = await listenExpress(app);
        t.after(() => server.close());
        const auth = await setUpAuth(`${server.origin}/platform/auth`);
        const router = express.Router();
        router.use("/auth", createExpressProvider(providerThrough(auth.provider, entryPoint)));
        app.use("/platform", router);

        const token = await fetchToken(`${server.origin}/platform/auth/token`, auth.client);
        assert.ok(token);
      });

      for (const [parser, setUp] of [
        ["urlencoded (extended: false)", (app) => app.use(express.urlencoded({ extended: false }))],
        ["urlencoded (extended: true)", (app) => app.use(express.urlencoded({ extended: true }))],
        ["json", (app) => app.use(express.json())],
        ["json and urlencoded", (app) => app.use(express.json(), express.urlencoded({ extended: false }))],
        ["text", (app) => app.use(express.text({ type: "*/*" }))],
      ]) {
        test(`body parsed by ${parser} first`, async (t) => {
          const app = await start({ setUp, path: "/auth" });
          t.after(() => app.close());

          const issued = await postForm(app.tokenUrl, app.client, {
            grant_type: "client_credentials",
            scope: "read:orders",
            audience: AUDIENCE,
          });
          const repeated = await postForm(
            app.tokenUrl,
            app.client,
            "grant_type=client_credentials&scope=read:orders&scope=write:orders",
          );
          const json = await send(app.tokenUrl, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Basic x` },
            body: JSON.stringify({ grant_type: "client_credentials" }),
          });

          assert.equal(issued.status, 200, issued.text);
          assert.equal(issued.json.scope, "read:orders");
          assertOAuthError(repeated, 400, "invalid_request");
          assert.match(repeated.json.error_description, /repeated/);
          assertOAuthError(json, 400, "invalid_request");
          assert.match(json.json.error_description, /content type/);
        });
      }

      test("nested form fields after qs", async (t) => {
        const app = await start({ setUp: (a) => a.use(express.urlencoded({ extended: true })) });
        t.after(() => app.close());

        // qs turns `audience[x]=y` into an object. Encoded back, it is a
        // parameter named `audience[x]`, which the provider ignores, as it
        // would without the parser.
        const response = await postForm(app.tokenUrl, app.client, "grant_type=client_credentials&audience[x]=y");

        assert.equal(response.status, 200, response.text);
      });

      test("oversized bodies are 413", async (t) => {
        const raw = await start();
        const parsed = await start({ setUp: (a) => a.use(express.urlencoded({ extended: false, limit: "1mb" })) });
        t.after(() => Promise.all([raw.close(), parsed.close()]));

        // Past its own `limit`, body-parser responds before the provider receives the request.
        for (const [app, sizes] of [
          [raw, [16 * 1024 + 1, 64 * 1024, 900 * 1024, 8 * 1024 * 1024]],
          [parsed, [16 * 1024 + 1, 64 * 1024, 900 * 1024]],
        ]) {
          for (const bytes of sizes) {
            const response = await postForm(app.tokenUrl, app.client, oversizedForm(bytes));
            assertOAuthError(response, 413, "invalid_request");
          }
          const atLimit = await postForm(app.tokenUrl, app.client, oversizedForm(16 * 1024));
          assert.equal(atLimit.status, 200, `a body of exactly 16 KiB is accepted: ${atLimit.text}`);
        }

        // The server still responds on the same connections afterwards.
        const after = await send(raw.jwksUrl);
        assert.equal(after.status, 200);
      });

      test("wrong and missing content types", async (t) => {
        const app = await start();
        t.after(() => app.close());

        for (const contentType of ["text/plain", "application/json", "multipart/form-data; boundary=x", "nonsense", undefined]) {
          // A byte body, because fetch would label a string body text/plain.
          const headers = { authorization: basicAuth(app.client) };
          if (contentType !== undefined) headers["content-type"] = contentType;
          const response = await send(app.tokenUrl, {
            method: "POST",
            headers,
            body: new TextEncoder().encode("grant_type=client_credentials"),
          });
          assertOAuthError(response, 400, "invalid_request");
        }
      });

      test("errors from handle go to next", async (t) => {
        const app = express();
        const errors = [];
        app.use(createExpressProvider({ handle: async () => { throw new Error("storage is down"); } }));
        app.use((error, request, response, next) => {
          errors.push(error);
          response.status(503).json({ error: "unavailable" });
        });
        const server = await listenExpress(app);
        t.after(() => server.close());

        const response = await send(`${server.origin}/.well-known/jwks.json`);

        assert.equal(response.status, 503);
        assert.equal(errors.length, 1);
        assert.equal(errors[0].message, "storage is down");
      });
    });
  }

  describe(`${name} guard`, () => {
    let app;
    let token;

    before(async () => {
      app = await startReadmeApp(express);
      token = await fetchToken(app.tokenUrl, app.client);
    });
    after(() => app.close());

    test("Authorization header variants accepted", async () => {
      for (const [variant, header] of Object.entries(acceptedAuthorizations(token))) {
        const response = await send(`${app.origin}/internal`, { headers: { authorization: header } });
        assert.equal(response.status, 200, `${variant}: ${response.text}`);
        assert.equal(response.json.caller, "order-processor");
      }
    });

    test("bad Authorization headers rejected", async () => {
      for (const { name: variant, header, status, code } of rejectedAuthorizations(token)) {
        const headers = header === undefined ? {} : { authorization: header };
        const response = await send(`${app.origin}/internal`, { headers });
        assertGuardError(response, status, code);
        assert.ok(!response.text.includes(token), `${variant}: the response does not echo the token`);
      }
    });

    test("401 carries a Bearer challenge", async () => {
      const missing = await send(`${app.origin}/internal`);
      const invalid = await send(`${app.origin}/internal`, { headers: { authorization: "Bearer x.y.z" } });

      assert.equal(missing.headers.get("www-authenticate"), "Bearer");
      assert.equal(invalid.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
    });

    test("wrong audience is 403", async (t) => {
      const other = express();
      const server = await listenExpress(other);
      t.after(() => server.close());
      const { createGuard } = await import("trustline");
      other.use(createExpressGuard(createGuard({ issuer: app.issuer, audience: "billing" })));
      other.get("/", (request, response) => response.json({}));

      const response = await send(server.origin, { headers: { authorization: `Bearer ${token}` } });

      assertGuardError(response, 403, "invalid_audience");
    });

    test("requireScopes on one route", async (t) => {
      const routes = express();
      const server = await listenExpress(routes);
      t.after(() => server.close());
      const { createGuard } = await import("trustline");
      const guard = createGuard({ issuer: app.issuer, audience: AUDIENCE });
      routes.use(createExpressGuard(guard));
      routes.get("/orders", requireScopes("read:orders"), (request, response) => response.json({ ok: true }));
      routes.post("/orders", requireScopes(["read:orders"], "write:orders"), (request, response) => response.json({ ok: true }));
      routes.delete("/orders", requireScopes("admin"), (request, response) => response.json({ ok: true }));
      const narrow = await fetchToken(app.tokenUrl, app.client, { scope: "read:orders" });
      const call = (method, bearer) =>
        send(`${server.origin}/orders`, { method, headers: { authorization: `Bearer ${bearer}` } });

      assert.equal((await call("GET", narrow)).status, 200);
      assert.equal((await call("POST", token)).status, 200);
      const denied = await call("POST", narrow);
      assertGuardError(denied, 403, "invalid_scope");
      assert.match(denied.json.message, /write:orders/);
      assert.equal(denied.headers.get("www-authenticate"), 'Bearer error="insufficient_scope"');
      assertGuardError(await call("DELETE", token), 403, "invalid_scope");
    });

    test("requireScopes without a guard", async (t) => {
      const routes = express();
      const errors = [];
      routes.get("/", requireScopes("admin"), (request, response) => response.json({}));
      routes.use((error, request, response, next) => {
        errors.push(error);
        response.status(500).json({ error: "server_error" });
      });
      const server = await listenExpress(routes);
      t.after(() => server.close());

      const response = await send(server.origin);

      assert.equal(response.status, 500);
      assert.match(errors[0]?.message ?? "", /run the trustline guard before it/);
    });

    test("requireScopes argument checks", () => {
      assert.throws(() => requireScopes(), TypeError);
      assert.throws(() => requireScopes(""), TypeError);
      assert.throws(() => requireScopes("a b"), TypeError);
      assert.throws(() => requireScopes(42), TypeError);
    });

    test("unexpected verify errors go to next", async (t) => {
      const routes = express();
      const errors = [];
      const failingGuard = { verify: async () => { throw new TypeError("verify exploded"); } };
      routes.use(createExpressGuard(failingGuard));
      routes.get("/", (request, response) => response.json({}));
      routes.use((error, request, response, next) => {
        errors.push(error);
        response.status(500).json({ error: "server_error" });
      });
      const server = await listenExpress(routes);
      t.after(() => server.close());

      const response = await send(server.origin, { headers: { authorization: "Bearer x" } });

      assert.equal(response.status, 500);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].message, "verify exploded");
    });

    test("guard that rejects synchronously", async (t) => {
      const routes = express();
      const throwingGuard = {
        verify() {
          throw new RangeError("thrown before any promise");
        },
      };
      routes.use(createExpressGuard(throwingGuard));
      routes.get("/", (request, response) => response.json({}));
      routes.use((error, request, response, next) => response.status(500).json({ message: error.message }));
      const server = await listenExpress(routes);
      t.after(() => server.close());

      const response = await send(server.origin, { headers: { authorization: "Bearer x" } });

      assert.equal(response.status, 500);
      assert.equal(response.json.message, "thrown before any promise");
    });
  });
}
