// How often the guard fetches the JWKS: counted on a test JWKS server.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test } from "node:test";

import { createGuard } from "trustline";

import { startJwksServer } from "./helpers/http.mjs";
import { generateSigningKey, signJwt, validClaims } from "./helpers/jwt.mjs";
import { assertAuthError } from "./helpers/setup.mjs";

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
