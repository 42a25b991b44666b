// GET /.well-known/jwks.json, signing keys and key rotation.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decodeJwt, generateSigningKey, verifyWithJwk } from "./helpers/jwt.mjs";
import { get, requestToken } from "./helpers/oauth.mjs";
import { sleepUntil, startProvider, storageKinds } from "./helpers/setup.mjs";

const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

async function setup(t, kind, options = {}) {
  const ctx = await startProvider(t, { storage: kind.create(), ...options });
  const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["read:orders"] });
  const issue = async () => {
    const response = await requestToken(ctx.tokenUrl, credentials);
    assert.equal(response.status, 200, response.text);
    return response.json.access_token;
  };
  const kids = async () => (await get(ctx.jwksUrl)).json.keys.map((key) => key.kid);
  return { ...ctx, credentials, issue, kids };
}

function assertPublicJwk(key) {
  assert.equal(typeof key.kid, "string", "kid");
  assert.ok(key.kid.length > 0, "kid is not empty");
  assert.equal(key.use, "sig");
  for (const member of PRIVATE_JWK_MEMBERS) {
    assert.equal(member in key, false, `JWK ${key.kid} must not contain private member "${member}"`);
  }
  if (key.kty === "EC") {
    assert.equal(key.alg, "ES256");
    assert.equal(key.crv, "P-256");
    assert.match(key.x, /^[A-Za-z0-9_-]{43}$/);
    assert.match(key.y, /^[A-Za-z0-9_-]{43}$/);
  } else {
    assert.equal(key.kty, "RSA");
    assert.equal(key.alg, "RS256");
    assert.match(key.n, /^[A-Za-z0-9_-]+$/);
    assert.ok(Buffer.from(key.n, "base64url").length >= 256, "RSA modulus is at least 2048 bits");
    assert.equal(key.e, "AQAB");
  }
}

for (const kind of storageKinds) {
  describe(`jwks (${kind.name})`, () => {
    test("jwks shape and headers", async (t) => {
      const { jwksUrl, issue } = await setup(t, kind);
      await issue();

      const response = await get(jwksUrl);

      assert.equal(response.status, 200, response.text);
      assert.equal(response.headers.get("cache-control"), "public, max-age=600");
      assert.match(response.headers.get("content-type") ?? "", /json/);
      assert.deepEqual(Object.keys(response.json), ["keys"]);
      assert.equal(response.json.keys.length, 1);
      assert.equal(response.json.keys[0].kty, "EC");
      assertPublicJwk(response.json.keys[0]);
    });

    test("key created on first jwks request", async (t) => {
      const { storage, jwksUrl, issue } = await setup(t, kind);
      assert.equal((await storage.getSigningKeys()).length, 0, "no key before the first need");

      const first = await get(jwksUrl);
      const second = await get(jwksUrl);

      assert.equal(first.status, 200, first.text);
      assert.equal(first.json.keys.length, 1);
      assert.deepEqual(second.json, first.json);
      const stored = await storage.getSigningKeys();
      assert.equal(stored.length, 1);
      assert.equal(stored[0].keyId, first.json.keys[0].kid);
      assert.equal(decodeJwt(await issue()).header.kid, first.json.keys[0].kid);
    });

    test("key created on first token", async (t) => {
      const { storage, jwksUrl, issue } = await setup(t, kind);

      const token = await issue();

      const stored = await storage.getSigningKeys();
      assert.equal(stored.length, 1);
      assert.equal(decodeJwt(token).header.kid, stored[0].keyId);
      assert.equal(stored[0].algorithm, "ES256");
      assert.match(stored[0].privateKey, /^-----BEGIN PRIVATE KEY-----/);
      assert.match(stored[0].publicKey, /^-----BEGIN PUBLIC KEY-----/);
      assert.ok(stored[0].createdAt instanceof Date, "createdAt is a Date");
      assert.ok(stored[0].notBefore instanceof Date, "notBefore is a Date");
      assert.equal(stored[0].notAfter, null);
      assert.deepEqual((await get(jwksUrl)).json.keys.map((key) => key.kid), [stored[0].keyId]);
    });

    test("ES256 token verifies with jwks key", async (t) => {
      const { jwksUrl, issue } = await setup(t, kind);
      const token = await issue();

      const jwk = (await get(jwksUrl)).json.keys.find((key) => key.kid === decodeJwt(token).header.kid);

      assert.ok(verifyWithJwk(token, jwk), "signature verifies");
      const tampered = `${token.slice(0, -4)}AAAA`;
      assert.equal(verifyWithJwk(tampered, jwk), false, "tampered signature fails");
    });

    test("RS256 signing", async (t) => {
      const { jwksUrl, issue } = await setup(t, kind, { signing: { algorithm: "RS256" } });
      const token = await issue();

      const { keys } = (await get(jwksUrl)).json;
      const { header } = decodeJwt(token);

      assert.equal(header.alg, "RS256");
      assert.equal(keys.length, 1);
      assert.equal(keys[0].kty, "RSA");
      assertPublicJwk(keys[0]);
      assert.equal(keys[0].kid, header.kid);
      assert.ok(verifyWithJwk(token, keys[0]), "RS256 signature verifies");
    });

    test("imported EC PEM with keyId", async (t) => {
      const key = generateSigningKey("ES256", "imported-ec");
      const { jwksUrl, storage, issue } = await setup(t, kind, {
        signing: { privateKey: key.privatePem, keyId: "imported-ec" },
      });

      const token = await issue();
      const { keys } = (await get(jwksUrl)).json;

      assert.deepEqual(keys.map((k) => k.kid), ["imported-ec"]);
      assert.equal(keys[0].x, key.jwk.x);
      assert.equal(keys[0].y, key.jwk.y);
      assert.equal(decodeJwt(token).header.kid, "imported-ec");
      assert.ok(verifyWithJwk(token, key.jwk), "token verifies with the imported key's public half");
      assert.equal((await storage.getSigningKeys())[0].keyId, "imported-ec");
    });

    test("imported RSA PEM with keyId", async (t) => {
      const key = generateSigningKey("RS256", "imported-rsa");
      const { jwksUrl, issue } = await setup(t, kind, {
        signing: { algorithm: "RS256", privateKey: key.privatePem, keyId: "imported-rsa" },
      });

      const token = await issue();
      const { keys } = (await get(jwksUrl)).json;

      assert.deepEqual(keys.map((k) => k.kid), ["imported-rsa"]);
      assert.equal(keys[0].n, key.jwk.n);
      assert.equal(decodeJwt(token).header.alg, "RS256");
      assert.ok(verifyWithJwk(token, key.jwk), "token verifies with the imported key's public half");
    });

    test("rotate signs with new key at once", async (t) => {
      const { provider, issue, kids } = await setup(t, kind);
      const oldKid = decodeJwt(await issue()).header.kid;

      const { keyId } = await provider.keys.rotate();

      assert.equal(typeof keyId, "string");
      assert.notEqual(keyId, oldKid);
      assert.equal(decodeJwt(await issue()).header.kid, keyId);
      assert.deepEqual(new Set(await kids()), new Set([oldKid, keyId]), "both keys listed during the overlap");
    });

    test("rotated-out key dropped after overlap", async (t) => {
      const { provider, issue, kids } = await setup(t, kind);
      const oldKid = decodeJwt(await issue()).header.kid;
      const rotatedAt = Date.now();

      const { keyId } = await provider.keys.rotate({ overlapSeconds: 1 });

      assert.deepEqual(new Set(await kids()), new Set([oldKid, keyId]), "old key listed during the overlap");
      await sleepUntil(rotatedAt + 1300);
      assert.deepEqual(await kids(), [keyId], "old key dropped after the overlap");
      assert.equal(decodeJwt(await issue()).header.kid, keyId);
    });

    test("rotate with future activateAt", async (t) => {
      const { provider, issue, kids } = await setup(t, kind);
      const oldKid = decodeJwt(await issue()).header.kid;
      const activateAt = new Date(Date.now() + 1200);

      const { keyId } = await provider.keys.rotate({ activateAt, overlapSeconds: 1 });

      assert.equal(decodeJwt(await issue()).header.kid, oldKid, "old key signs before activateAt");
      assert.ok((await kids()).includes(oldKid), "old key listed before activateAt");

      await sleepUntil(activateAt.getTime() + 150);
      assert.equal(decodeJwt(await issue()).header.kid, keyId, "new key signs from activateAt");
      assert.ok((await kids()).includes(oldKid), "old key listed during the overlap");
      assert.ok((await kids()).includes(keyId), "new key listed once active");

      await sleepUntil(activateAt.getTime() + 1300);
      assert.deepEqual(await kids(), [keyId], "old key dropped after activateAt + overlap");
    });

    test("default overlap is ttl plus 60 s", async (t) => {
      const { provider, storage, issue } = await setup(t, kind, { token: { ttl: 120 } });
      const oldKid = decodeJwt(await issue()).header.kid;
      const before = Date.now();

      await provider.keys.rotate();

      const old = (await storage.getSigningKeys()).find((key) => key.keyId === oldKid);
      assert.ok(old.notAfter instanceof Date, "old key got a notAfter");
      const expected = before + (120 + 60) * 1000;
      assert.ok(Math.abs(old.notAfter.getTime() - expected) < 5000, `notAfter ${old.notAfter.toISOString()}`);
    });

    test("rotate to imported RSA key", async (t) => {
      const { provider, issue, kids } = await setup(t, kind);
      const oldKid = decodeJwt(await issue()).header.kid;
      const key = generateSigningKey("RS256", "rotated-rsa");

      const result = await provider.keys.rotate({
        algorithm: "RS256",
        privateKey: key.privatePem,
        keyId: "rotated-rsa",
      });

      assert.equal(result.keyId, "rotated-rsa");
      const token = await issue();
      assert.equal(decodeJwt(token).header.alg, "RS256");
      assert.equal(decodeJwt(token).header.kid, "rotated-rsa");
      assert.ok(verifyWithJwk(token, key.jwk), "token verifies with the imported key");
      assert.deepEqual(new Set(await kids()), new Set([oldKid, "rotated-rsa"]));
    });

    test("rotate to generated RS256 key", async (t) => {
      const { provider, jwksUrl, issue } = await setup(t, kind);
      await issue();

      const { keyId } = await provider.keys.rotate({ algorithm: "RS256", keyId: "next-rsa" });

      assert.equal(keyId, "next-rsa");
      const token = await issue();
      const jwk = (await get(jwksUrl)).json.keys.find((key) => key.kid === "next-rsa");
      assert.equal(jwk.kty, "RSA");
      assertPublicJwk(jwk);
      assert.ok(verifyWithJwk(token, jwk), "token verifies with the new RSA key");
    });

    test("rotate with invalid PEM rejected", async (t) => {
      const { provider, issue } = await setup(t, kind);
      const oldKid = decodeJwt(await issue()).header.kid;

      await assert.rejects(provider.keys.rotate({ privateKey: "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n" }), Error);

      assert.equal(decodeJwt(await issue()).header.kid, oldKid, "the old key still signs");
    });

    test("rotate with mismatched PEM rejected", async (t) => {
      const { provider, issue } = await setup(t, kind);
      const oldKid = decodeJwt(await issue()).header.kid;
      const ecKey = generateSigningKey("ES256", "ec-as-rsa");

      await assert.rejects(provider.keys.rotate({ algorithm: "RS256", privateKey: ecKey.privatePem }), Error);

      assert.equal(decodeJwt(await issue()).header.kid, oldKid, "the old key still signs");
    });
  });
}
