// A guard given the provider's storage: token revocation, disabled and
// deleted clients, and the tokensInvalidBefore cutoff.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createGuard } from "trustline";
import { sqliteStorage } from "trustline/adapters/sqlite";

import { decodeJwt } from "./helpers/jwt.mjs";
import { issueToken } from "./helpers/oauth.mjs";
import { assertAuthError, sleep, sleepUntil, startProvider, storageKinds, tempPath } from "./helpers/setup.mjs";

async function setup(t, storage) {
  const ctx = await startProvider(t, { storage });
  const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["read:orders"] });
  const issue = () => issueToken(ctx.tokenUrl, credentials);
  const guard = createGuard({ issuer: ctx.issuer, storage });
  return { ...ctx, credentials, issue, guard };
}

/**
 * Verifies a token four times: the first two verifications check it in full,
 * the third returns the identity from the addon's cache, and the fourth the
 * identity kept on the JavaScript side.
 */
async function verifyRepeatedly(guard, token) {
  for (let i = 0; i < 4; i++) {
    await guard.verify(token);
  }
}

for (const kind of storageKinds) {
  describe(`guard with storage (${kind.name})`, () => {
    test("accepts a valid token", async (t) => {
      const { guard, issue, credentials } = await setup(t, kind.create());

      const identity = await guard.verify(await issue());

      assert.equal(identity.clientId, credentials.clientId);
      assert.equal(identity.name, "orders-api");
    });

    test("tokens.revoke rejects the jti", async (t) => {
      const { provider, guard, issue } = await setup(t, kind.create());
      const revoked = await issue();
      const other = await issue();
      const { jti, exp } = decodeJwt(revoked).payload;

      await provider.tokens.revoke(jti, new Date(exp * 1000));

      await assertAuthError(guard.verify(revoked), "invalid_token", 401);
      assert.ok(await guard.verify(other), "another token of the client still verifies");
    });

    test("tokens.revoke twice is fine", async (t) => {
      const { provider, storage, guard, issue } = await setup(t, kind.create());
      const token = await issue();
      const { jti, exp } = decodeJwt(token).payload;
      const expiresAt = new Date(exp * 1000);

      await provider.tokens.revoke(jti, expiresAt);
      await provider.tokens.revoke(jti, expiresAt);

      const record = await storage.findRevokedToken(jti);
      assert.equal(record.jti, jti);
      assert.ok(record.expiresAt instanceof Date, "expiresAt is a Date");
      assert.equal(record.expiresAt.getTime(), expiresAt.getTime());
      await assertAuthError(guard.verify(token), "invalid_token", 401);
    });

    test("disabled client rejected until enabled", async (t) => {
      const { provider, guard, issue, credentials } = await setup(t, kind.create());
      const token = await issue();

      await provider.clients.disable(credentials.clientId);
      await assertAuthError(guard.verify(token), "invalid_token", 401);

      await provider.clients.enable(credentials.clientId);
      assert.equal((await guard.verify(token)).clientId, credentials.clientId);
    });

    test("deleted client rejected", async (t) => {
      const { provider, guard, issue, credentials } = await setup(t, kind.create());
      const token = await issue();
      await verifyRepeatedly(guard, token);

      await provider.clients.revoke(credentials.clientId);

      await assertAuthError(guard.verify(token), "invalid_token", 401);
    });

    test("cutoff in the future rejects current tokens", async (t) => {
      const { provider, guard, issue, credentials } = await setup(t, kind.create());
      const token = await issue();

      await provider.clients.invalidateTokensBefore(credentials.clientId, new Date(Date.now() + 60_000));
      await assertAuthError(guard.verify(token), "invalid_token", 401);
      await assertAuthError(guard.verify(await issue()), "invalid_token", 401);

      await provider.clients.clearTokensInvalidBefore(credentials.clientId);
      assert.equal((await guard.verify(token)).clientId, credentials.clientId);
    });

    test("cutoff now rejects older tokens only", async (t) => {
      const { provider, guard, issue, credentials } = await setup(t, kind.create());
      const old = await issue();
      // iat has whole seconds: wait so that the old token's iat is before the cutoff.
      await sleep(1100);

      await provider.clients.invalidateTokensBefore(credentials.clientId);
      const cutoff = (await provider.clients.get(credentials.clientId)).tokensInvalidBefore;
      await assertAuthError(guard.verify(old), "invalid_token", 401);

      // A token issued in a later second than the cutoff is not cut off.
      await sleepUntil((Math.floor(cutoff.getTime() / 1000) + 1) * 1000 + 50);
      const fresh = await issue();
      assert.equal((await guard.verify(fresh)).clientId, credentials.clientId);
    });

    test("revoke applies after a cached verify", async (t) => {
      const { provider, guard, issue } = await setup(t, kind.create());
      const token = await issue();
      await verifyRepeatedly(guard, token);

      await provider.tokens.revoke(decodeJwt(token).payload.jti, new Date(Date.now() + 60_000));

      await assertAuthError(guard.verify(token), "invalid_token", 401);
    });

    test("disable applies after a cached verify", async (t) => {
      const { provider, guard, issue, credentials } = await setup(t, kind.create());
      const token = await issue();
      await verifyRepeatedly(guard, token);

      await provider.clients.disable(credentials.clientId);
      await assertAuthError(guard.verify(token), "invalid_token", 401);

      await provider.clients.enable(credentials.clientId);
      assert.equal((await guard.verify(token)).clientId, credentials.clientId);
    });

    test("cutoff applies after a cached verify", async (t) => {
      const { provider, guard, issue, credentials } = await setup(t, kind.create());
      const token = await issue();
      await verifyRepeatedly(guard, token);

      await provider.clients.invalidateTokensBefore(credentials.clientId, new Date(Date.now() + 60_000));

      await assertAuthError(guard.verify(token), "invalid_token", 401);
    });

    test("guard without storage ignores revocation", async (t) => {
      const { provider, issuer, issue, credentials } = await setup(t, kind.create());
      const token = await issue();
      const stateless = createGuard({ issuer });

      await provider.clients.disable(credentials.clientId);
      await provider.tokens.revoke(decodeJwt(token).payload.jti, new Date(Date.now() + 60_000));

      assert.equal((await stateless.verify(token)).clientId, credentials.clientId);
    });
  });
}

describe("guard with separate sqlite handle", () => {
  test("sees provider changes in the same file", async (t) => {
    const file = tempPath();
    const { provider, issuer, issue, credentials } = await setup(t, sqliteStorage(file));
    const guard = createGuard({ issuer, storage: sqliteStorage(file) });
    const token = await issue();
    assert.equal((await guard.verify(token)).clientId, credentials.clientId);

    await provider.tokens.revoke(decodeJwt(token).payload.jti, new Date(Date.now() + 60_000));
    await assertAuthError(guard.verify(token), "invalid_token", 401);

    const second = await issue();
    await provider.clients.disable(credentials.clientId);
    await assertAuthError(guard.verify(second), "invalid_token", 401);
  });
});
