// The package's entry points, ESM and CommonJS, and AuthError.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

import * as trustline from "trustline";
import * as sqliteAdapter from "trustline/adapters/sqlite";
import * as clientEntry from "trustline/client";

import { assertAuthError } from "./helpers/setup.mjs";

const require = createRequire(import.meta.url);

describe("entry points", () => {
  test("trustline exports", () => {
    for (const name of ["createProvider", "createGuard", "memoryStorage", "AuthError"]) {
      assert.equal(typeof trustline[name], "function", `trustline exports ${name}`);
    }
  });

  test("subpath exports", () => {
    assert.equal(typeof clientEntry.createClient, "function");
    assert.equal(typeof sqliteAdapter.sqliteStorage, "function");
  });

  test("CommonJS require", () => {
    const cjs = require("trustline");
    const cjsClient = require("trustline/client");
    const cjsSqlite = require("trustline/adapters/sqlite");

    for (const name of ["createProvider", "createGuard", "memoryStorage", "AuthError"]) {
      assert.equal(typeof cjs[name], "function", `require("trustline").${name}`);
    }
    assert.equal(typeof cjsClient.createClient, "function");
    assert.equal(typeof cjsSqlite.sqliteStorage, "function");
  });

  test("memoryStorage has the adapter methods", () => {
    const storage = trustline.memoryStorage();

    for (const method of [
      "findClient",
      "createClient",
      "deleteClient",
      "listClients",
      "updateClient",
      "touchClient",
      "setClientActive",
      "setTokensInvalidBefore",
      "getSigningKeys",
      "addSigningKey",
      "setSigningKeyNotAfter",
      "findRevokedToken",
      "revokeToken",
    ]) {
      assert.equal(typeof storage[method], "function", `memoryStorage().${method}`);
    }
  });
});

describe("AuthError", () => {
  test("guard error is AuthError", async () => {
    const guard = trustline.createGuard({ issuer: "https://auth.exports-tests.trustline.test" });

    const error = await guard.verify("").catch((caught) => caught);

    assert.ok(error instanceof trustline.AuthError, "instanceof AuthError");
    assert.ok(error instanceof Error, "instanceof Error");
    assert.equal(error.code, "missing_token");
    assert.equal(error.status, 401);
    assert.equal(typeof error.message, "string");
  });

  test("client error is the same AuthError", async () => {
    const client = clientEntry.createClient({
      tokenUrl: "http://127.0.0.1:9/token",
      clientId: "svc_x",
      clientSecret: "secret",
      fetch: async () =>
        new Response(JSON.stringify({ error: "invalid_client", error_description: "unknown client" }), {
          status: 401,
          headers: { "content-type": "application/json" },
        }),
    });

    await assertAuthError(client.getToken(), "invalid_client", 401);
  });
});
