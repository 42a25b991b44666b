// Routing of provider.handle when the issuer has a path: the endpoints live
// under that path and everything else is a JSON 404.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createGuard } from "trustline";

import { decodeJwt } from "./helpers/jwt.mjs";
import { get, requestToken } from "./helpers/oauth.mjs";
import { startProvider, storageKinds } from "./helpers/setup.mjs";

async function setup(t, kind) {
  const ctx = await startProvider(t, { storage: kind.create(), path: "/auth" });
  const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["read:orders"] });
  return { ...ctx, credentials };
}

function assertNotFound(response, path) {
  assert.equal(response.status, 404, `${path}: ${response.text}`);
  assert.ok(response.json, `${path}: body is JSON: ${response.text}`);
  assert.equal(response.json.error, "not_found", path);
  assert.equal(typeof response.json.message, "string", `${path}: message`);
  assert.match(response.headers.get("content-type") ?? "", /json/, path);
}

for (const kind of storageKinds) {
  describe(`routes under issuer path (${kind.name})`, () => {
    test("token served under the path", async (t) => {
      const { server, issuer, credentials } = await setup(t, kind);

      const response = await requestToken(`${server.origin}/auth/token`, credentials);

      assert.equal(response.status, 200, response.text);
      assert.equal(decodeJwt(response.json.access_token).payload.iss, issuer);
      assert.equal(issuer, `${server.origin}/auth`);
    });

    test("jwks served under the path", async (t) => {
      const { server } = await setup(t, kind);

      const response = await get(`${server.origin}/auth/.well-known/jwks.json`);

      assert.equal(response.status, 200, response.text);
      assert.ok(Array.isArray(response.json.keys));
    });

    test("token outside the path is 404", async (t) => {
      const { server, credentials } = await setup(t, kind);

      for (const path of ["/token", "/other/token", "/auth/token/x", "/authtoken", "/auth"]) {
        const response = await requestToken(`${server.origin}${path}`, credentials);
        assertNotFound(response, path);
      }
    });

    test("jwks outside the path is 404", async (t) => {
      const { server } = await setup(t, kind);

      for (const path of ["/.well-known/jwks.json", "/other/.well-known/jwks.json", "/auth/.well-known/jwks.json/x"]) {
        assertNotFound(await get(`${server.origin}${path}`), path);
      }
    });

    test("unknown path is 404", async (t) => {
      const { server } = await setup(t, kind);

      for (const path of ["/", "/auth/", "/auth/unknown", "/favicon.ico"]) {
        assertNotFound(await get(`${server.origin}${path}`), path);
      }
    });

    test("guard derives jwks url from issuer path", async (t) => {
      const { issuer, tokenUrl, credentials } = await setup(t, kind);
      const token = (await requestToken(tokenUrl, credentials)).json.access_token;
      const guard = createGuard({ issuer });

      const identity = await guard.verify(token);

      assert.equal(identity.clientId, credentials.clientId);
    });
  });
}

describe("routes at issuer root", () => {
  test("token and jwks served at the root", async (t) => {
    const kind = storageKinds[0];
    const ctx = await startProvider(t, { storage: kind.create() });
    const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["read:orders"] });

    const token = await requestToken(`${ctx.server.origin}/token`, credentials);
    const jwks = await get(`${ctx.server.origin}/.well-known/jwks.json`);

    assert.equal(token.status, 200, token.text);
    assert.equal(jwks.status, 200, jwks.text);
    assertNotFound(await get(`${ctx.server.origin}/auth/token`), "/auth/token");
  });
});
