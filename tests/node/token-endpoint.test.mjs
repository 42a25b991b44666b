// POST /token: the OAuth 2.0 client credentials grant over real HTTP.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ENCODED_CLIENT_ID, ENCODED_SECRET, seedClient } from "./helpers/clients.mjs";
import { UUID_V7, decodeJwt, nowSeconds } from "./helpers/jwt.mjs";
import { assertOAuthError, basicAuth, get, post, requestToken } from "./helpers/oauth.mjs";
import { startProvider, storageKinds } from "./helpers/setup.mjs";

const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function setup(t, kind, options = {}) {
  const ctx = await startProvider(t, { storage: kind.create(), ...options });
  const credentials = await ctx.provider.clients.create({
    name: "orders-api",
    scopes: ["read:orders", "write:orders"],
  });
  return { ...ctx, credentials };
}

function scopeSet(scope) {
  return new Set(scope.split(" ").filter(Boolean));
}

for (const kind of storageKinds) {
  describe(`token endpoint (${kind.name})`, () => {
    test("basic auth issues a token", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const response = await requestToken(tokenUrl, { ...credentials, auth: "basic" });

      assert.equal(response.status, 200, response.text);
      assert.deepEqual(Object.keys(response.json).sort(), ["access_token", "expires_in", "scope", "token_type"]);
      assert.equal(response.json.token_type, "Bearer");
      assert.equal(response.json.expires_in, 300);
      assert.deepEqual(scopeSet(response.json.scope), new Set(["read:orders", "write:orders"]));
      assert.equal(typeof response.json.access_token, "string");
      assert.equal(response.json.access_token.split(".").length, 3);
    });

    test("token response headers", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const response = await requestToken(tokenUrl, credentials);

      assert.equal(response.status, 200, response.text);
      assert.match(response.headers.get("cache-control") ?? "", /\bno-store\b/);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    });

    test("basic scheme is case-insensitive", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);
      const encoded = basicAuth(credentials.clientId, credentials.clientSecret).slice("Basic ".length);

      for (const scheme of ["basic", "BASIC"]) {
        const response = await post(tokenUrl, "grant_type=client_credentials", {
          ...FORM,
          authorization: `${scheme} ${encoded}`,
        });
        assert.equal(response.status, 200, `${scheme}: ${response.text}`);
      }
    });

    test("post auth issues a token", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const response = await requestToken(tokenUrl, { ...credentials, auth: "post" });

      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.token_type, "Bearer");
      assert.equal(decodeJwt(response.json.access_token).payload.sub, credentials.clientId);
    });

    test("basic auth form-decodes id and secret", async (t) => {
      const ctx = await startProvider(t, { storage: kind.create() });
      await seedClient(ctx.storage, { scopes: ["read"] });

      const response = await post(ctx.tokenUrl, "grant_type=client_credentials", {
        ...FORM,
        authorization: basicAuth(ENCODED_CLIENT_ID, ENCODED_SECRET),
      });

      assert.equal(response.status, 200, response.text);
      assert.equal(decodeJwt(response.json.access_token).payload.sub, ENCODED_CLIENT_ID);
    });

    test("post auth decodes encoded id and secret", async (t) => {
      const ctx = await startProvider(t, { storage: kind.create() });
      await seedClient(ctx.storage, { scopes: ["read"] });

      const response = await requestToken(ctx.tokenUrl, {
        clientId: ENCODED_CLIENT_ID,
        clientSecret: ENCODED_SECRET,
        auth: "post",
      });

      assert.equal(response.status, 200, response.text);
      assert.equal(decodeJwt(response.json.access_token).payload.sub, ENCODED_CLIENT_ID);
    });

    test("scope narrows granted scopes", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const response = await requestToken(tokenUrl, { ...credentials, scope: "read:orders" });

      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.scope, "read:orders");
      assert.equal(decodeJwt(response.json.access_token).payload.scope, "read:orders");
    });

    test("empty scope grants all scopes", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const empty = await requestToken(tokenUrl, { ...credentials, scope: "" });
      const omitted = await requestToken(tokenUrl, credentials);

      const all = new Set(["read:orders", "write:orders"]);
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(scopeSet(empty.json.scope), all);
      assert.deepEqual(scopeSet(decodeJwt(empty.json.access_token).payload.scope), all);
      assert.equal(omitted.status, 200, omitted.text);
      assert.deepEqual(scopeSet(omitted.json.scope), all);
    });

    test("scope outside client's scopes is invalid_scope", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const unknown = await requestToken(tokenUrl, { ...credentials, scope: "read:orders delete:orders" });
      const other = await requestToken(tokenUrl, { ...credentials, scope: "admin" });

      assertOAuthError(unknown, 400, "invalid_scope");
      assertOAuthError(other, 400, "invalid_scope");
    });

    test("audience becomes aud claim", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const withAudience = await requestToken(tokenUrl, { ...credentials, audience: "inventory-service" });
      const without = await requestToken(tokenUrl, credentials);

      assert.equal(withAudience.status, 200, withAudience.text);
      assert.equal(decodeJwt(withAudience.json.access_token).payload.aud, "inventory-service");
      assert.equal(without.status, 200, without.text);
      assert.equal("aud" in decodeJwt(without.json.access_token).payload, false);
    });

    test("other grant type is unsupported_grant_type", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const password = await requestToken(tokenUrl, { ...credentials, grantType: "password" });
      const code = await requestToken(tokenUrl, { ...credentials, grantType: "authorization_code" });

      assertOAuthError(password, 400, "unsupported_grant_type");
      assertOAuthError(code, 400, "unsupported_grant_type");
    });

    test("wrong content type is invalid_request", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);
      const authorization = basicAuth(credentials.clientId, credentials.clientSecret);

      const json = await post(tokenUrl, JSON.stringify({ grant_type: "client_credentials" }), {
        "content-type": "application/json",
        authorization,
      });
      const text = await post(tokenUrl, "grant_type=client_credentials", {
        "content-type": "text/plain",
        authorization,
      });

      assertOAuthError(json, 400, "invalid_request");
      assertOAuthError(text, 400, "invalid_request");
    });

    test("form content type with charset accepted", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const response = await post(tokenUrl, "grant_type=client_credentials", {
        "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
        authorization: basicAuth(credentials.clientId, credentials.clientSecret),
      });

      assert.equal(response.status, 200, response.text);
    });

    test("missing grant_type is invalid_request", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const response = await requestToken(tokenUrl, { ...credentials, grantType: null });

      assertOAuthError(response, 400, "invalid_request");
    });

    test("repeated parameter is invalid_request", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);
      const headers = { ...FORM, authorization: basicAuth(credentials.clientId, credentials.clientSecret) };

      const grant = await post(tokenUrl, "grant_type=client_credentials&grant_type=client_credentials", headers);
      const scope = await post(tokenUrl, "grant_type=client_credentials&scope=read:orders&scope=write:orders", headers);
      const audience = await post(tokenUrl, "grant_type=client_credentials&audience=a&audience=b", headers);

      assertOAuthError(grant, 400, "invalid_request");
      assertOAuthError(scope, 400, "invalid_request");
      assertOAuthError(audience, 400, "invalid_request");
    });

    test("credentials in header and body is invalid_request", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);
      const body = new URLSearchParams({
        grant_type: "client_credentials",
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
      });

      const response = await post(tokenUrl, body.toString(), {
        ...FORM,
        authorization: basicAuth(credentials.clientId, credentials.clientSecret),
      });

      assertOAuthError(response, 400, "invalid_request");
    });

    test("missing credentials is invalid_client", async (t) => {
      const { tokenUrl } = await setup(t, kind);

      const response = await requestToken(tokenUrl, { auth: "none" });

      assertOAuthError(response, 401, "invalid_client");
    });

    test("unknown client is invalid_client", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);
      const unknown = { clientId: "svc_00000000000000000000000000000000", clientSecret: credentials.clientSecret };

      const basic = await requestToken(tokenUrl, { ...unknown, auth: "basic" });
      const posted = await requestToken(tokenUrl, { ...unknown, auth: "post" });

      assertOAuthError(basic, 401, "invalid_client");
      assert.match(basic.headers.get("www-authenticate") ?? "", /^Basic\b/i);
      assertOAuthError(posted, 401, "invalid_client");
    });

    test("wrong secret is invalid_client", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);
      const wrong = { clientId: credentials.clientId, clientSecret: `${credentials.clientSecret.slice(0, -1)}x` };

      const basic = await requestToken(tokenUrl, { ...wrong, auth: "basic" });
      const posted = await requestToken(tokenUrl, { ...wrong, auth: "post" });

      assertOAuthError(basic, 401, "invalid_client");
      assert.match(basic.headers.get("www-authenticate") ?? "", /^Basic\b/i);
      assertOAuthError(posted, 401, "invalid_client");
    });

    test("disabled client is invalid_client", async (t) => {
      const { provider, tokenUrl, credentials } = await setup(t, kind);
      await provider.clients.disable(credentials.clientId);

      const basic = await requestToken(tokenUrl, { ...credentials, auth: "basic" });
      const posted = await requestToken(tokenUrl, { ...credentials, auth: "post" });

      assertOAuthError(basic, 401, "invalid_client");
      assert.match(basic.headers.get("www-authenticate") ?? "", /^Basic\b/i);
      assertOAuthError(posted, 401, "invalid_client");
    });

    test("token header and claims", async (t) => {
      const { issuer, tokenUrl, jwksUrl, credentials } = await setup(t, kind, { env: "staging" });
      const before = nowSeconds();

      const response = await requestToken(tokenUrl, { ...credentials, audience: "inventory-service" });

      assert.equal(response.status, 200, response.text);
      const { header, payload } = decodeJwt(response.json.access_token);
      const jwks = (await get(jwksUrl)).json;

      assert.equal(header.alg, "ES256");
      assert.equal(header.typ, "at+jwt");
      assert.ok(jwks.keys.some((key) => key.kid === header.kid), `kid ${header.kid} is in the JWKS`);
      assert.equal(payload.iss, issuer);
      assert.equal(payload.sub, credentials.clientId);
      assert.equal(payload.aud, "inventory-service");
      assert.deepEqual(scopeSet(payload.scope), new Set(["read:orders", "write:orders"]));
      assert.equal(payload.name, "orders-api");
      assert.equal(payload.env, "staging");
      assert.match(payload.jti, UUID_V7);
      assert.ok(Number.isInteger(payload.iat), "iat is an integer");
      assert.ok(payload.iat >= before - 1, `iat ${payload.iat} is not before the request`);
      assert.ok(payload.iat <= nowSeconds() + 1, `iat ${payload.iat} is not after the response`);
      assert.equal(payload.exp, payload.iat + 300);
    });

    test("jti differs per token", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const first = await requestToken(tokenUrl, credentials);
      const second = await requestToken(tokenUrl, credentials);

      assert.notEqual(decodeJwt(first.json.access_token).payload.jti, decodeJwt(second.json.access_token).payload.jti);
    });

    test("env claim absent without env", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind);

      const response = await requestToken(tokenUrl, credentials);

      assert.equal("env" in decodeJwt(response.json.access_token).payload, false);
    });

    test("custom token ttl", async (t) => {
      const { tokenUrl, credentials } = await setup(t, kind, { token: { ttl: 42 } });

      const response = await requestToken(tokenUrl, credentials);

      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.expires_in, 42);
      const { payload } = decodeJwt(response.json.access_token);
      assert.equal(payload.exp, payload.iat + 42);
    });

    test("token request records client use", async (t) => {
      const { provider, tokenUrl, credentials } = await setup(t, kind);
      const before = Date.now();

      await requestToken(tokenUrl, credentials);

      const client = await provider.clients.get(credentials.clientId);
      assert.ok(client.lastSeenAt instanceof Date, "lastSeenAt is set");
      assert.ok(client.lastSeenAt.getTime() >= before - 1000, "lastSeenAt is recent");
      assert.ok(client.currentSecretLastUsedAt instanceof Date, "currentSecretLastUsedAt is set");
    });

    test("GET on token path is not served", async (t) => {
      const { tokenUrl } = await setup(t, kind);

      const response = await get(tokenUrl);

      assert.ok([404, 405].includes(response.status), `status ${response.status}`);
      assert.ok(response.json, `body is JSON: ${response.text}`);
      assert.equal(typeof response.json.error, "string");
    });
  });
}
