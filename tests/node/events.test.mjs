// Provider and guard events delivered to hooks.onEvent.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, test } from "node:test";

import { createGuard } from "trustline";

import { closedPortUrl } from "./helpers/http.mjs";
import { decodeJwt, generateSigningKey, signJwt, validClaims } from "./helpers/jwt.mjs";
import { issueToken, requestToken } from "./helpers/oauth.mjs";
import { assertDateNear, eventRecorder, sleep, startProvider, storageKinds } from "./helpers/setup.mjs";

function assertEventBase(event, { issuer, outcome }) {
  assert.equal(typeof event.type, "string");
  assertDateNear(event.timestamp, Date.now(), 10_000, `${event.type} timestamp`);
  assert.equal(event.issuer, issuer, `${event.type} issuer`);
  assert.equal(event.outcome, outcome, `${event.type} outcome`);
}

for (const kind of storageKinds) {
  describe(`provider events (${kind.name})`, () => {
    test("admin calls emit client events", async (t) => {
      const recorder = eventRecorder();
      const { provider, issuer } = await startProvider(t, {
        storage: kind.create(),
        hooks: { onEvent: recorder.onEvent },
      });

      const { clientId } = await provider.clients.create({ name: "orders-api", scopes: ["a"] });
      await provider.clients.rename(clientId, "orders-api-v2");
      await provider.clients.updateScopes(clientId, ["a", "b"]);
      await provider.clients.disable(clientId);
      await provider.clients.enable(clientId);
      await provider.clients.rotateSecret(clientId);

      for (const type of [
        "client.created",
        "client.renamed",
        "client.scopes_updated",
        "client.deactivated",
        "client.activated",
        "client.secret_rotated",
      ]) {
        const event = await recorder.waitFor(type);
        assertEventBase(event, { issuer, outcome: "success" });
        assert.equal(event.clientId, clientId, `${type} clientId`);
      }
    });

    test("token issued event", async (t) => {
      const recorder = eventRecorder();
      const { provider, issuer, tokenUrl } = await startProvider(t, {
        storage: kind.create(),
        hooks: { onEvent: recorder.onEvent },
      });
      const credentials = await provider.clients.create({ name: "orders-api", scopes: ["a"] });

      await issueToken(tokenUrl, credentials, { audience: "inventory" });

      const event = await recorder.waitFor("token.issued");
      assertEventBase(event, { issuer, outcome: "success" });
      assert.equal(event.clientId, credentials.clientId);
      assert.equal(event.audience, "inventory");
    });

    test("token issuance failed events", async (t) => {
      const recorder = eventRecorder();
      const { provider, issuer, tokenUrl } = await startProvider(t, {
        storage: kind.create(),
        hooks: { onEvent: recorder.onEvent },
      });
      const credentials = await provider.clients.create({ name: "orders-api", scopes: ["a"] });

      await requestToken(tokenUrl, { clientId: credentials.clientId, clientSecret: "wrong-secret" });
      await requestToken(tokenUrl, { ...credentials, scope: "admin" });

      const invalidClient = await recorder.waitFor("token.issuance_failed", (e) => e.reasonCode === "invalid_client");
      assertEventBase(invalidClient, { issuer, outcome: "failure" });
      assert.equal(invalidClient.clientId, credentials.clientId);
      const invalidScope = await recorder.waitFor("token.issuance_failed", (e) => e.reasonCode === "invalid_scope");
      assertEventBase(invalidScope, { issuer, outcome: "failure" });
      assert.equal(invalidScope.clientId, credentials.clientId);
    });

    test("throwing hook does not break issuance", async (t) => {
      let calls = 0;
      const { provider, tokenUrl } = await startProvider(t, {
        storage: kind.create(),
        hooks: {
          onEvent() {
            calls += 1;
            throw new Error("hook failed on purpose");
          },
        },
      });

      const credentials = await provider.clients.create({ name: "orders-api", scopes: ["a"] });
      await provider.clients.rename(credentials.clientId, "renamed");
      const ok = await requestToken(tokenUrl, credentials);
      const failed = await requestToken(tokenUrl, { clientId: credentials.clientId, clientSecret: "wrong" });
      await sleep(50);

      assert.equal(ok.status, 200, ok.text);
      assert.equal(failed.status, 401, failed.text);
      assert.ok(calls >= 3, `hook was called (${calls} times)`);
    });

    test("rejecting hook does not break issuance", async (t) => {
      let calls = 0;
      const { provider, tokenUrl } = await startProvider(t, {
        storage: kind.create(),
        hooks: {
          async onEvent() {
            calls += 1;
            throw new Error("hook rejected on purpose");
          },
        },
      });

      const credentials = await provider.clients.create({ name: "orders-api", scopes: ["a"] });
      const ok = await requestToken(tokenUrl, credentials);
      const failed = await requestToken(tokenUrl, { clientId: credentials.clientId, clientSecret: "wrong" });
      await sleep(50);

      assert.equal(ok.status, 200, ok.text);
      assert.equal(failed.status, 401, failed.text);
      assert.ok(calls >= 2, `hook was called (${calls} times)`);
    });
  });
}

describe("guard events", () => {
  async function setup(t, guardOptions = {}) {
    const recorder = eventRecorder();
    const ctx = await startProvider(t, { storage: storageKinds[0].create() });
    const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["a"] });
    const guard = createGuard({ issuer: ctx.issuer, hooks: { onEvent: recorder.onEvent }, ...guardOptions });
    return { ...ctx, credentials, guard, recorder };
  }

  test("verified and jwks refreshed events", async (t) => {
    const { issuer, tokenUrl, credentials, guard, recorder } = await setup(t);

    await guard.verify(await issueToken(tokenUrl, credentials));

    const refreshed = await recorder.waitFor("jwks.refreshed");
    assertEventBase(refreshed, { issuer, outcome: "success" });
    const verified = await recorder.waitFor("token.verified");
    assertEventBase(verified, { issuer, outcome: "success" });
    assert.equal(verified.clientId, credentials.clientId);
  });

  test("verification failed event", async (t) => {
    const { issuer, tokenUrl, credentials, guard, recorder } = await setup(t, { audience: "inventory" });

    await assert.rejects(guard.verify(await issueToken(tokenUrl, credentials, { audience: "billing" })));
    await assert.rejects(guard.verify(""));

    const audience = await recorder.waitFor("token.verification_failed", (e) => e.reasonCode === "invalid_audience");
    assertEventBase(audience, { issuer, outcome: "failure" });
    assert.equal(audience.clientId, credentials.clientId);
    const missing = await recorder.waitFor("token.verification_failed", (e) => e.reasonCode === "missing_token");
    assertEventBase(missing, { issuer, outcome: "failure" });
  });

  test("jwks refresh failed event", async () => {
    const recorder = eventRecorder();
    const issuer = "https://auth.events-tests.trustline.test";
    const guard = createGuard({ issuer, jwksUrl: await closedPortUrl(), hooks: { onEvent: recorder.onEvent } });
    const key = generateSigningKey("ES256", "k");
    const token = signJwt({ alg: "ES256", kid: "k" }, validClaims(issuer), key.privateKey);

    await assert.rejects(guard.verify(token));

    const failed = await recorder.waitFor("jwks.refresh_failed");
    assertEventBase(failed, { issuer, outcome: "failure" });
  });

  test("throwing hook does not break verification", async (t) => {
    const ctx = await startProvider(t, { storage: storageKinds[0].create() });
    const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["a"] });
    let calls = 0;
    const throwing = createGuard({
      issuer: ctx.issuer,
      hooks: {
        onEvent() {
          calls += 1;
          throw new Error("hook failed on purpose");
        },
      },
    });
    const rejecting = createGuard({
      issuer: ctx.issuer,
      hooks: {
        async onEvent() {
          calls += 1;
          throw new Error("hook rejected on purpose");
        },
      },
    });
    const token = await issueToken(ctx.tokenUrl, credentials);

    assert.equal((await throwing.verify(token)).clientId, credentials.clientId);
    assert.equal((await rejecting.verify(token)).clientId, credentials.clientId);
    await assert.rejects(throwing.verify(`${token}x`), { code: "invalid_token" });
    await assert.rejects(rejecting.verify(`${token}x`), { code: "invalid_token" });
    await sleep(50);
    assert.ok(calls >= 4, `hooks were called (${calls} times)`);
  });
});

describe("events carry no secrets", () => {
  test("no secret or token in any event", async (t) => {
    const recorder = eventRecorder();
    const ctx = await startProvider(t, { storage: storageKinds[1].create(), hooks: { onEvent: recorder.onEvent } });
    const guard = createGuard({ issuer: ctx.issuer, storage: ctx.storage, hooks: { onEvent: recorder.onEvent } });
    const wrongSecret = "wrong-secret-that-must-not-be-logged";

    const credentials = await ctx.provider.clients.create({ name: "orders-api", scopes: ["a"] });
    const rotated = await ctx.provider.clients.rotateSecret(credentials.clientId);
    const tokens = [
      await issueToken(ctx.tokenUrl, credentials, { audience: "inventory" }),
      await issueToken(ctx.tokenUrl, { clientId: credentials.clientId, clientSecret: rotated.clientSecret }),
      await issueToken(ctx.tokenUrl, credentials, { auth: "post" }),
    ];
    await requestToken(ctx.tokenUrl, { clientId: credentials.clientId, clientSecret: wrongSecret });
    await requestToken(ctx.tokenUrl, { clientId: credentials.clientId, clientSecret: wrongSecret, auth: "post" });
    await guard.verify(tokens[0]);
    await assert.rejects(guard.verify(`${tokens[1]}x`));
    await ctx.provider.tokens.revoke(decodeJwt(tokens[2]).payload.jti, new Date(Date.now() + 60_000));
    await assert.rejects(guard.verify(tokens[2]));
    await recorder.waitFor("token.verification_failed", () => recorder.ofType("token.verification_failed").length >= 2);

    const text = JSON.stringify(recorder.events);
    assert.ok(recorder.events.length >= 8, `events were recorded (${recorder.events.length})`);
    const forbidden = {
      "current secret": credentials.clientSecret,
      "rotated secret": rotated.clientSecret,
      "wrong secret": wrongSecret,
    };
    for (const [index, token] of tokens.entries()) {
      const [header, payload, signature] = token.split(".");
      forbidden[`token ${index}`] = `${header}.${payload}`;
      forbidden[`token ${index} signature`] = signature;
    }
    for (const [what, secret] of [["current", credentials.clientSecret], ["rotated", rotated.clientSecret]]) {
      const digest = crypto.createHash("sha256").update(secret).digest();
      forbidden[`${what} secret SHA-256 hex`] = digest.toString("hex");
      forbidden[`${what} secret SHA-256 base64url`] = digest.toString("base64url");
      forbidden[`${what} secret SHA-256 base64`] = digest.toString("base64");
    }
    for (const [what, value] of Object.entries(forbidden)) {
      assert.equal(text.includes(value), false, `${what} appears in an event`);
    }
    assert.doesNotMatch(text, /\$2[aby]\$/, "no bcrypt hash in events");
    assert.doesNotMatch(text, /PRIVATE KEY/, "no private key in events");
  });
});
