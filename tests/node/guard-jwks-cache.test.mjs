// How often the guard fetches the JWKS: counted on a test JWKS server.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test } from "node:test";

import { createGuard } from "trustline";

import { startJwksServer } from "./helpers/http.mjs";
import { decodeJwt, generateSigningKey, signJwt, validClaims } from "./helpers/jwt.mjs";
import { issueToken } from "./helpers/oauth.mjs";
import { assertAuthError, startProvider, storageKinds } from "./helpers/setup.mjs";

const ISSUER = "https://auth.jwks-cache-tests.trustline.test";

const first = generateSigningKey("ES256", "key-1");
const second = generateSigningKey("ES256", "key-2");
const stranger = generateSigningKey("ES256", "stranger");

const signWith = (key, kid = key.jwk.kid) => signJwt({ alg: "ES256", kid }, validClaims(ISSUER), key.privateKey);

async function setup(t, keys = [first.jwk]) {
  const jwks = await startJwksServer({ keys });
  t.after(() => jwks.close());
  const guard = createGuard({ issuer: ISSUER, jwksUrl: jwks.url });
  return { jwks, guard };
}

describe("guard jwks cache", () => {
  test("no fetch before first verify", async (t) => {
    const { jwks } = await setup(t);

    assert.equal(jwks.fetches, 0);
  });

  test("jwks cached across verifies", async (t) => {
    const { jwks, guard } = await setup(t, [first.jwk, second.jwk]);

    for (let i = 0; i < 5; i += 1) {
      await guard.verify(signWith(first));
      await guard.verify(signWith(second));
    }

    assert.equal(jwks.fetches, 1);
  });

  test("concurrent verifies share one fetch", async (t) => {
    const { jwks, guard } = await setup(t);
    jwks.delayMs = 200;

    const results = await Promise.all(Array.from({ length: 10 }, () => guard.verify(signWith(first))));

    assert.equal(results.length, 10);
    assert.equal(jwks.fetches, 1);
  });

  test("unknown kid refetches once", async (t) => {
    const { jwks, guard } = await setup(t);
    await guard.verify(signWith(first));
    assert.equal(jwks.fetches, 1);

    jwks.document = { keys: [first.jwk, second.jwk] };
    const identity = await guard.verify(signWith(second));

    assert.ok(identity, "token of the newly published key verifies");
    assert.equal(jwks.fetches, 2);
    await guard.verify(signWith(second));
    await guard.verify(signWith(first));
    assert.equal(jwks.fetches, 2, "the refreshed JWKS is cached");
  });

  test("failed signature refetches once", async (t) => {
    // The issuer replaced the key material behind "key-1".
    const { jwks, guard } = await setup(t);
    await guard.verify(signWith(first));
    const replacement = generateSigningKey("ES256", "key-1");

    jwks.document = { keys: [replacement.jwk] };
    const identity = await guard.verify(signWith(replacement));

    assert.ok(identity, "token signed with the replaced key verifies");
    assert.equal(jwks.fetches, 2);
  });

  test("unknown kid stream refetches boundedly", async (t) => {
    const { jwks, guard } = await setup(t);
    await guard.verify(signWith(first));

    for (let i = 0; i < 25; i += 1) {
      await assertAuthError(guard.verify(signWith(stranger, `forged-${crypto.randomUUID()}`)), "invalid_token", 401);
    }

    assert.ok(jwks.fetches <= 2, `25 unknown kids caused ${jwks.fetches} fetches`);
    assert.ok(await guard.verify(signWith(first)), "valid tokens still verify");
  });

  test("bad signature stream refetches boundedly", async (t) => {
    const { jwks, guard } = await setup(t);
    await guard.verify(signWith(first));

    for (let i = 0; i < 25; i += 1) {
      await assertAuthError(guard.verify(signWith(stranger, "key-1")), "invalid_token", 401);
    }

    assert.ok(jwks.fetches <= 2, `25 bad signatures caused ${jwks.fetches} fetches`);
  });

  test("concurrent forged tokens refetch boundedly", async (t) => {
    const { jwks, guard } = await setup(t);
    await guard.verify(signWith(first));

    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => guard.verify(signWith(stranger, `forged-${crypto.randomUUID()}`))),
    );

    assert.ok(results.every((result) => result.status === "rejected"), "all forged tokens rejected");
    assert.ok(jwks.fetches <= 2, `20 concurrent unknown kids caused ${jwks.fetches} fetches`);
  });
});

describe("guard and provider key rotation", () => {
  test("live guard accepts tokens of the new key", async (t) => {
    const ctx = await startProvider(t, { storage: storageKinds[0].create() });
    const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["read:orders"] });
    const guard = createGuard({ issuer: ctx.issuer });
    const before = await issueToken(ctx.tokenUrl, credentials);
    await guard.verify(before);

    await ctx.provider.keys.rotate();
    const after = await issueToken(ctx.tokenUrl, credentials);

    assert.notEqual(decodeJwt(after).header.kid, decodeJwt(before).header.kid);
    assert.equal((await guard.verify(after)).clientId, credentials.clientId);
    assert.equal((await guard.verify(before)).clientId, credentials.clientId, "old key still verifies in the overlap");
    assert.equal(ctx.server.count("/.well-known/jwks.json"), 2);
  });
});
