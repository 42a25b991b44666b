// guard.verify against tokens signed here with node:crypto and a JWKS served
// by a test server: every check and error code of the guard.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AuthError, createGuard } from "trustline";

import { closedPortUrl, startJwksServer } from "./helpers/http.mjs";
import { base64url, generateSigningKey, nowSeconds, signJwt, validClaims } from "./helpers/jwt.mjs";
import { assertAuthError } from "./helpers/setup.mjs";

const ISSUER = "https://auth.guard-tests.trustline.test";

describe("guard checks", () => {
  let jwks;
  const ec = generateSigningKey("ES256", "ec-1");
  const rsa = generateSigningKey("RS256", "rsa-1");
  const ec384 = generateSigningKey("ES384", "ec-384");
  const outsider = generateSigningKey("ES256", "ec-1");

  before(async () => {
    jwks = await startJwksServer({ keys: [ec.jwk, rsa.jwk, ec384.jwk] });
  });
  after(() => jwks.close());

  const guardFor = (options = {}) => createGuard({ issuer: ISSUER, jwksUrl: jwks.url, ...options });
  const es256 = (claims, header = {}) => signJwt({ alg: "ES256", kid: "ec-1", typ: "at+jwt", ...header }, claims, ec.privateKey);
  const rs256 = (claims, header = {}) => signJwt({ alg: "RS256", kid: "rsa-1", typ: "at+jwt", ...header }, claims, rsa.privateKey);

  test("ES256 token returns identity", async () => {
    const claims = validClaims(ISSUER, { env: "production", aud: "inventory" });

    const identity = await guardFor().verify(es256(claims));

    assert.equal(identity.clientId, claims.sub);
    assert.equal(identity.name, "orders-api");
    assert.deepEqual(identity.scopes, ["read:orders", "write:orders"]);
    assert.equal(identity.env, "production");
    assert.deepEqual(identity.raw, claims);
  });

  test("repeated verification returns equal identities that callers cannot share", async () => {
    const claims = validClaims(ISSUER, { env: "production", aud: ["inventory", "billing"] });
    const token = es256(claims);
    const guard = guardFor();

    // The first two calls verify in full, the third returns the identity from the
    // addon's cache, and later calls the identity kept on the JavaScript side.
    for (let i = 0; i < 5; i++) {
      const identity = await guard.verify(token);
      assert.equal(identity.clientId, claims.sub, `call ${i + 1}`);
      assert.deepEqual(identity.scopes, ["read:orders", "write:orders"], `call ${i + 1}`);
      assert.deepEqual(identity.raw, claims, `call ${i + 1}`);

      identity.clientId = "changed";
      identity.scopes.push("admin");
      identity.raw.sub = "changed";
      identity.raw.aud.push("elsewhere");
    }
  });

  test("a token sharing another's last characters is verified on its own", async () => {
    const token = es256(validClaims(ISSUER));
    const guard = guardFor();
    for (let i = 0; i < 4; i++) {
      await guard.verify(token);
    }

    const [header, , signature] = token.split(".");
    const forged = `${header}.${Buffer.from(JSON.stringify(validClaims(ISSUER, { sub: "intruder" }))).toString("base64url")}.${signature}`;
    await assertAuthError(guard.verify(forged), "invalid_token", 401);
  });

  test("RS256 token returns identity", async () => {
    const claims = validClaims(ISSUER);

    const identity = await guardFor().verify(rs256(claims));

    assert.equal(identity.clientId, claims.sub);
  });

  test("identity defaults for absent claims", async () => {
    const { name, scope, ...claims } = validClaims(ISSUER);

    const identity = await guardFor().verify(es256(claims));

    assert.equal(identity.name, null);
    assert.equal(identity.env, null);
    assert.deepEqual(identity.scopes, []);
  });

  test("empty token is missing_token", async () => {
    await assertAuthError(guardFor().verify(""), "missing_token", 401);
  });

  test("malformed token is invalid_token", async () => {
    const guard = guardFor();
    const header = base64url(JSON.stringify({ alg: "ES256", kid: "ec-1" }));
    const payload = base64url(JSON.stringify(validClaims(ISSUER)));
    const cases = [
      "not-a-jwt",
      "a.b",
      "a.b.c",
      "a.b.c.d",
      `${header}.${payload}`,
      `${base64url("not json")}.${payload}.AAAA`,
      `${header}.${base64url("not json")}.AAAA`,
      `${header}.${base64url("[1,2]")}.AAAA`,
      `${header}.${payload}.!!!`,
    ];

    for (const token of cases) {
      await assertAuthError(guard.verify(token), "invalid_token", 401);
    }
  });

  test("bad signature is invalid_token", async () => {
    const token = es256(validClaims(ISSUER));
    const [h, p, s] = token.split(".");
    const flipped = Buffer.from(s, "base64url");
    flipped[0] ^= 0xff;

    await assertAuthError(guardFor().verify(`${h}.${p}.${base64url(flipped)}`), "invalid_token", 401);
  });

  test("changed payload is invalid_token", async () => {
    const token = es256(validClaims(ISSUER, { scope: "read:orders" }));
    const [h, , s] = token.split(".");
    const widened = base64url(JSON.stringify(validClaims(ISSUER, { scope: "admin" })));

    await assertAuthError(guardFor().verify(`${h}.${widened}.${s}`), "invalid_token", 401);
  });

  test("key outside the jwks is invalid_token", async () => {
    const token = signJwt({ alg: "ES256", kid: "ec-1" }, validClaims(ISSUER), outsider.privateKey);

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("expired token is invalid_token", async () => {
    const iat = nowSeconds() - 600;

    const token = es256(validClaims(ISSUER, { iat, exp: iat + 300 }));

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("exp within tolerance accepted", async () => {
    const guard = guardFor();

    const token = es256(validClaims(ISSUER, { exp: nowSeconds() - 2 }));

    assert.ok(await guard.verify(token), "default clockTolerance is 5 s");
  });

  test("clockTolerance 0 rejects just expired", async () => {
    const token = es256(validClaims(ISSUER, { exp: nowSeconds() - 2 }));

    await assertAuthError(guardFor({ clockTolerance: 0 }).verify(token), "invalid_token", 401);
  });

  test("clockTolerance widens exp window", async () => {
    const token = es256(validClaims(ISSUER, { exp: nowSeconds() - 30 }));

    assert.ok(await guardFor({ clockTolerance: 60 }).verify(token));
    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("missing exp is invalid_token", async () => {
    const { exp, ...claims } = validClaims(ISSUER);

    await assertAuthError(guardFor().verify(es256(claims)), "invalid_token", 401);
  });

  test("non-numeric exp is invalid_token", async () => {
    const token = es256(validClaims(ISSUER, { exp: "tomorrow" }));

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("future nbf is invalid_token", async () => {
    const token = es256(validClaims(ISSUER, { nbf: nowSeconds() + 60 }));

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("nbf within tolerance accepted", async () => {
    const token = es256(validClaims(ISSUER, { nbf: nowSeconds() + 2 }));

    assert.ok(await guardFor().verify(token));
  });

  test("other issuer is invalid_issuer", async () => {
    const other = es256(validClaims("https://evil.test"));
    const withSlash = es256(validClaims(`${ISSUER}/`));

    await assertAuthError(guardFor().verify(other), "invalid_issuer", 401);
    await assertAuthError(guardFor().verify(withSlash), "invalid_issuer", 401);
  });

  test("missing iss rejected", async () => {
    const { iss, ...noIssuer } = validClaims(ISSUER);

    await assert.rejects(guardFor().verify(es256(noIssuer)), (error) => {
      assert.ok(error instanceof AuthError, `AuthError, got ${error}`);
      assert.ok(["invalid_issuer", "invalid_token"].includes(error.code), `code ${error.code}`);
      assert.equal(error.status, 401);
      return true;
    });
  });

  test("audience string mismatch is invalid_audience", async () => {
    const guard = guardFor({ audience: "inventory" });

    await assertAuthError(guard.verify(es256(validClaims(ISSUER, { aud: "billing" }))), "invalid_audience", 403);
    await assertAuthError(guard.verify(es256(validClaims(ISSUER))), "invalid_audience", 403);
    assert.ok(await guard.verify(es256(validClaims(ISSUER, { aud: "inventory" }))));
  });

  test("token aud array matches string audience", async () => {
    const guard = guardFor({ audience: "inventory" });

    assert.ok(await guard.verify(es256(validClaims(ISSUER, { aud: ["billing", "inventory"] }))));
    await assertAuthError(
      guard.verify(es256(validClaims(ISSUER, { aud: ["billing", "shipping"] }))),
      "invalid_audience",
      403,
    );
  });

  test("audience array accepts any member", async () => {
    const guard = guardFor({ audience: ["inventory", "shipping"] });

    assert.ok(await guard.verify(es256(validClaims(ISSUER, { aud: "shipping" }))));
    assert.ok(await guard.verify(es256(validClaims(ISSUER, { aud: ["billing", "inventory"] }))));
    await assertAuthError(guard.verify(es256(validClaims(ISSUER, { aud: "billing" }))), "invalid_audience", 403);
  });

  test("no audience option accepts any aud", async () => {
    assert.ok(await guardFor().verify(es256(validClaims(ISSUER, { aud: "anything" }))));
  });

  test("missing scope is invalid_scope", async () => {
    const guard = guardFor({ scopes: ["read:orders", "write:orders"] });

    await assertAuthError(guard.verify(es256(validClaims(ISSUER, { scope: "read:orders" }))), "invalid_scope", 403);
    const { scope, ...noScope } = validClaims(ISSUER);
    await assertAuthError(guard.verify(es256(noScope)), "invalid_scope", 403);
    const identity = await guard.verify(es256(validClaims(ISSUER, { scope: "write:orders extra read:orders" })));
    assert.deepEqual(identity.scopes, ["write:orders", "extra", "read:orders"]);
  });

  test("scope prefix does not satisfy scope", async () => {
    const guard = guardFor({ scopes: ["read:orders"] });

    await assertAuthError(guard.verify(es256(validClaims(ISSUER, { scope: "read:order read:orders2" }))), "invalid_scope", 403);
  });

  test("env mismatch is invalid_env", async () => {
    const guard = guardFor({ env: "production" });

    await assertAuthError(guard.verify(es256(validClaims(ISSUER, { env: "staging" }))), "invalid_env", 403);
    await assertAuthError(guard.verify(es256(validClaims(ISSUER))), "invalid_env", 403);
    assert.equal((await guard.verify(es256(validClaims(ISSUER, { env: "production" })))).env, "production");
  });

  test("empty sub is invalid_token", async () => {
    const { sub, ...noSub } = validClaims(ISSUER);

    await assertAuthError(guardFor().verify(es256(validClaims(ISSUER, { sub: "" }))), "invalid_token", 401);
    await assertAuthError(guardFor().verify(es256(noSub)), "invalid_token", 401);
  });

  test("alg none is invalid_token", async () => {
    const token = signJwt({ alg: "none", kid: "ec-1" }, validClaims(ISSUER), null);
    const bare = signJwt({ alg: "none" }, validClaims(ISSUER), null);

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
    await assertAuthError(guardFor().verify(bare), "invalid_token", 401);
  });

  test("one guard checks every header on its own", async () => {
    // The guard skips decoding a header equal to the last one it accepted, so a
    // sequence of headers on one guard must give the same results as fresh guards.
    const guard = guardFor();
    const claims = validClaims(ISSUER);

    assert.equal((await guard.verify(es256(claims))).clientId, claims.sub);
    await assertAuthError(guard.verify(signJwt({ alg: "none", kid: "ec-1" }, claims, null)), "invalid_token", 401);
    assert.equal((await guard.verify(rs256(claims))).clientId, claims.sub);
    await assertAuthError(guard.verify(signJwt({ alg: "RS256", kid: "ec-1" }, claims, rsa.privateKey)), "invalid_token", 401);
    await assertAuthError(guard.verify(es256(claims, { crit: ["exp"] })), "invalid_token", 401);
    await assertAuthError(guard.verify(signJwt({ alg: "ES256", kid: "ec-1", typ: "at+jwt" }, claims, outsider.privateKey)), "invalid_token", 401);
    assert.equal((await guard.verify(es256(validClaims(ISSUER)))).clientId, claims.sub);
  });

  test("HS256 with public key is invalid_token", async () => {
    // The classic confusion: the verifier's public key used as an HMAC secret.
    const withPem = signJwt({ alg: "HS256", kid: "ec-1" }, validClaims(ISSUER), ec.publicPem);
    const withRsaPem = signJwt({ alg: "HS256", kid: "rsa-1" }, validClaims(ISSUER), rsa.publicPem);

    await assertAuthError(guardFor().verify(withPem), "invalid_token", 401);
    await assertAuthError(guardFor().verify(withRsaPem), "invalid_token", 401);
  });

  test("RS256 naming an EC key is invalid_token", async () => {
    const token = signJwt({ alg: "RS256", kid: "ec-1" }, validClaims(ISSUER), rsa.privateKey);

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("ES256 naming an RSA key is invalid_token", async () => {
    const token = signJwt({ alg: "ES256", kid: "rsa-1" }, validClaims(ISSUER), ec.privateKey);

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("ES384 is invalid_token", async () => {
    const token = signJwt({ alg: "ES384", kid: "ec-384" }, validClaims(ISSUER), ec384.privateKey);

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("PS256 with a listed RSA key is invalid_token", async () => {
    const token = signJwt({ alg: "PS256", kid: "rsa-1" }, validClaims(ISSUER), rsa.privateKey);

    await assertAuthError(guardFor().verify(token), "invalid_token", 401);
  });

  test("errors are AuthError instances", async () => {
    const error = await guardFor()
      .verify("")
      .then(
        () => null,
        (caught) => caught,
      );

    assert.ok(error instanceof AuthError, "instanceof AuthError");
    assert.ok(error instanceof Error, "instanceof Error");
    assert.equal(error.code, "missing_token");
    assert.equal(error.status, 401);
    assert.equal(typeof error.message, "string");
    assert.ok(error.message.length > 0, "message is not empty");
  });
});

describe("guard jwks failures", () => {
  const ec = generateSigningKey("ES256", "ec-1");
  const token = () => signJwt({ alg: "ES256", kid: "ec-1" }, validClaims(ISSUER), ec.privateKey);

  test("closed port is jwks_fetch_failed", async () => {
    const guard = createGuard({ issuer: ISSUER, jwksUrl: await closedPortUrl() });

    await assertAuthError(guard.verify(token()), "jwks_fetch_failed", 401);
  });

  test("server error is jwks_fetch_failed", async (t) => {
    const jwks = await startJwksServer({ keys: [ec.jwk] });
    t.after(() => jwks.close());
    jwks.status = 500;

    await assertAuthError(createGuard({ issuer: ISSUER, jwksUrl: jwks.url }).verify(token()), "jwks_fetch_failed", 401);
  });

  test("unparsable jwks is jwks_fetch_failed", async (t) => {
    const jwks = await startJwksServer();
    t.after(() => jwks.close());
    jwks.rawBody = "<html>not json</html>";

    await assertAuthError(createGuard({ issuer: ISSUER, jwksUrl: jwks.url }).verify(token()), "jwks_fetch_failed", 401);
  });

  test("jwks without keys array is jwks_fetch_failed", async (t) => {
    const jwks = await startJwksServer({ nothing: true });
    t.after(() => jwks.close());

    await assertAuthError(createGuard({ issuer: ISSUER, jwksUrl: jwks.url }).verify(token()), "jwks_fetch_failed", 401);
  });

  test("default jwks url from issuer", async (t) => {
    const jwks = await startJwksServer({ keys: [ec.jwk] });
    t.after(() => jwks.close());
    const issuer = jwks.server.origin;
    const guard = createGuard({ issuer: `${issuer}/` });
    const signed = signJwt({ alg: "ES256", kid: "ec-1" }, validClaims(`${issuer}/`), ec.privateKey);

    assert.ok(await guard.verify(signed));
    assert.equal(jwks.fetches, 1, "fetched issuer without trailing slash + /.well-known/jwks.json");
  });
});
