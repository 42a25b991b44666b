// Interoperability with jose, an independent JOSE implementation: our tokens
// and JWKS verify with jose, and our guard verifies tokens jose signed.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SignJWT, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { createGuard } from "trustline";

import { startJwksServer } from "./helpers/http.mjs";
import { basicAuth, issueToken } from "./helpers/oauth.mjs";
import { assertAuthError, startProvider, storageKinds } from "./helpers/setup.mjs";

for (const kind of storageKinds) {
  describe(`jose verifies our tokens (${kind.name})`, () => {
    for (const algorithm of ["ES256", "RS256"]) {
      test(`${algorithm} token with remote jwks`, async (t) => {
        const ctx = await startProvider(t, { storage: kind.create(), signing: { algorithm }, env: "production" });
        const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["read:orders"] });
        const token = await issueToken(ctx.tokenUrl, credentials, { audience: "inventory" });
        const jwks = createRemoteJWKSet(new URL(ctx.jwksUrl));

        const { payload, protectedHeader } = await jwtVerify(token, jwks, {
          issuer: ctx.issuer,
          audience: "inventory",
          algorithms: [algorithm],
          typ: "at+jwt",
        });

        assert.equal(protectedHeader.alg, algorithm);
        assert.equal(payload.sub, credentials.clientId);
        assert.equal(payload.scope, "read:orders");
        assert.equal(payload.env, "production");
      });
    }

    for (const algorithm of ["ES256", "RS256"]) {
      // One request at a time signs on the calling thread; many at once sign on workers.
      test(`${algorithm} tokens from sequential and concurrent handle() calls`, async (t) => {
        const ctx = await startProvider(t, { storage: kind.create(), signing: { algorithm } });
        const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["read:orders"] });
        const request = () =>
          new Request(ctx.tokenUrl, {
            method: "POST",
            headers: {
              authorization: basicAuth(credentials.clientId, credentials.clientSecret),
              "content-type": "application/x-www-form-urlencoded",
            },
            body: "grant_type=client_credentials",
          });
        const tokenOf = async (response) => {
          assert.equal(response.status, 200);
          return (await response.json()).access_token;
        };

        const tokens = [];
        for (let i = 0; i < 3; i++) {
          tokens.push(await tokenOf(await ctx.provider.handle(request())));
        }
        const concurrent = await Promise.all(Array.from({ length: 16 }, () => ctx.provider.handle(request())));
        tokens.push(...(await Promise.all(concurrent.map(tokenOf))));

        const jwks = createRemoteJWKSet(new URL(ctx.jwksUrl));
        const ids = new Set();
        for (const token of tokens) {
          const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: ctx.issuer, algorithms: [algorithm] });
          assert.equal(protectedHeader.alg, algorithm);
          assert.equal(payload.sub, credentials.clientId);
          ids.add(payload.jti);
        }
        assert.equal(ids.size, tokens.length);
      });
    }

    test("rotated key verifies with jose", async (t) => {
      const ctx = await startProvider(t, { storage: kind.create() });
      const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["read:orders"] });
      const before = await issueToken(ctx.tokenUrl, credentials);
      await ctx.provider.keys.rotate({ algorithm: "RS256" });
      const after = await issueToken(ctx.tokenUrl, credentials);
      const jwks = createRemoteJWKSet(new URL(ctx.jwksUrl));

      const old = await jwtVerify(before, jwks, { issuer: ctx.issuer });
      const rotated = await jwtVerify(after, jwks, { issuer: ctx.issuer });

      assert.equal(old.protectedHeader.alg, "ES256");
      assert.equal(rotated.protectedHeader.alg, "RS256");
    });
  });
}

describe("guard verifies jose tokens", () => {
  const ISSUER = "https://auth.jose-interop.trustline.test";

  async function setup(t) {
    const ec = await generateKeyPair("ES256", { extractable: true });
    const rsa = await generateKeyPair("RS256", { extractable: true });
    const keys = [
      { ...(await exportJWK(ec.publicKey)), kid: "jose-ec", alg: "ES256", use: "sig" },
      { ...(await exportJWK(rsa.publicKey)), kid: "jose-rsa", alg: "RS256", use: "sig" },
    ];
    const jwks = await startJwksServer({ keys });
    t.after(() => jwks.close());
    const guard = createGuard({ issuer: ISSUER, jwksUrl: jwks.url, audience: "inventory", scopes: ["read:orders"] });
    const sign = (alg, kid, privateKey, claims = {}) =>
      new SignJWT({ scope: "read:orders write:orders", name: "jose-client", ...claims })
        .setProtectedHeader({ alg, kid, typ: "at+jwt" })
        .setIssuer(ISSUER)
        .setSubject("svc_jose")
        .setAudience("inventory")
        .setJti(crypto.randomUUID())
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
    return { ec, rsa, guard, sign };
  }

  test("ES256 token from jose", async (t) => {
    const { ec, guard, sign } = await setup(t);

    const identity = await guard.verify(await sign("ES256", "jose-ec", ec.privateKey));

    assert.equal(identity.clientId, "svc_jose");
    assert.equal(identity.name, "jose-client");
    assert.deepEqual(identity.scopes, ["read:orders", "write:orders"]);
  });

  test("RS256 token from jose", async (t) => {
    const { rsa, guard, sign } = await setup(t);

    const identity = await guard.verify(await sign("RS256", "jose-rsa", rsa.privateKey));

    assert.equal(identity.clientId, "svc_jose");
  });

  test("jose token failing checks rejected", async (t) => {
    const { ec, guard, sign } = await setup(t);

    await assertAuthError(guard.verify(await sign("ES256", "jose-ec", ec.privateKey, { scope: "x" })), "invalid_scope", 403);
    await assertAuthError(guard.verify(await sign("ES256", "jose-rsa", ec.privateKey)), "invalid_token", 401);
  });
});
