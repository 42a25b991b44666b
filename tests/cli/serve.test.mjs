// `trustline-cli serve` driven over HTTP on 127.0.0.1 by the npm package's
// createClient and createGuard, unchanged, and by a Node provider that shares
// the server's SQLite file.

import assert from "node:assert/strict";
import http from "node:http";
import { describe, test } from "node:test";

import mysql from "mysql2/promise";
import pg from "pg";
import { AuthError, createGuard, createProvider } from "trustline";
import { mysqlStorage } from "trustline/adapters/mysql";
import { postgresStorage } from "trustline/adapters/postgres";
import { sqliteStorage } from "trustline/adapters/sqlite";
import { createClient } from "trustline/client";

import { cli, parseExports, runCli, sleep, startServe, tempPath } from "./helpers.mjs";

// The issuer has a path, so the endpoints live under /auth. The server is
// reached at its loopback address, as behind a reverse proxy, so the guard
// gets an explicit jwksUrl.
const ISSUER = "https://auth.internal/auth";

function decodeClaims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

/** Sends one raw HTTP/1.1 request with node:http and resolves with { status, headers, body }. */
function rawRequest(address, { method = "GET", path = "/", headers = {}, body } = {}) {
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port: Number(port), method, path, headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, body: text }));
    });
    request.on("error", reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

function basic(clientId, secret) {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

/** Creates a client with the CLI and starts serve on the same SQLite file. */
async function setup(t, { scopes = ["read:orders", "write:inventory"], extraArgs = [] } = {}) {
  const sqlitePath = tempPath();
  const common = ["--issuer", ISSUER, "--sqlite-path", sqlitePath, "--env", "production", ...extraArgs];
  const scopeArgs = scopes.flatMap((scope) => ["--scope", scope]);
  const created = parseExports(cli([...common, "client", "create", "--name", "order-processor", ...scopeArgs]));
  const server = await startServe(common, { t });
  return {
    sqlitePath,
    common,
    server,
    clientId: created.TRUSTLINE_CLIENT_ID,
    clientSecret: created.TRUSTLINE_CLIENT_SECRET,
    tokenUrl: `${server.baseUrl}/auth/token`,
    jwksUrl: `${server.baseUrl}/auth/.well-known/jwks.json`,
  };
}

describe("trustline-cli serve with the Node client and guard", () => {
  test("createClient gets a token that createGuard verifies", async (t) => {
    const ctx = await setup(t);
    const client = createClient({
      tokenUrl: ctx.tokenUrl,
      clientId: ctx.clientId,
      clientSecret: ctx.clientSecret,
      audience: "inventory-service",
      scope: ["read:orders"],
    });
    const guard = createGuard({
      issuer: ISSUER,
      jwksUrl: ctx.jwksUrl,
      audience: "inventory-service",
      scopes: ["read:orders"],
      env: "production",
    });

    const token = await client.getToken();
    const identity = await guard.verify(token);

    assert.equal(identity.clientId, ctx.clientId);
    assert.equal(identity.name, "order-processor");
    assert.deepEqual(identity.scopes, ["read:orders"]);
    assert.equal(identity.env, "production");
    assert.equal(identity.raw.iss, ISSUER);
    assert.equal(await client.getToken(), token, "the client caches the token");
  });

  test("client_secret_post works and a wrong secret is invalid_client", async (t) => {
    const ctx = await setup(t);
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: ctx.clientId,
      client_secret: ctx.clientSecret,
    });
    const response = await fetch(ctx.tokenUrl, { method: "POST", body: form });
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.token_type, "Bearer");
    assert.equal(body.expires_in, 300);
    assert.equal(body.scope, "read:orders write:inventory");

    const wrong = createClient({ tokenUrl: ctx.tokenUrl, clientId: ctx.clientId, clientSecret: "wrong-secret" });
    await assert.rejects(wrong.getToken(), (error) => {
      assert.ok(error instanceof AuthError);
      assert.equal(error.status, 401);
      assert.equal(error.code, "invalid_client");
      return true;
    });
  });

  test("CLI revocation, disable and cutoff reach a guard with storage", async (t) => {
    const ctx = await setup(t);
    const storage = sqliteStorage(ctx.sqlitePath);
    const guard = createGuard({ issuer: ISSUER, jwksUrl: ctx.jwksUrl, storage });
    const issue = () =>
      createClient({ tokenUrl: ctx.tokenUrl, clientId: ctx.clientId, clientSecret: ctx.clientSecret }).getToken();

    const revoked = await issue();
    await guard.verify(revoked);
    const { jti, exp } = decodeClaims(revoked);
    cli([...ctx.common, "token", "revoke", jti, "--expires-at", String(exp)]);
    await assert.rejects(guard.verify(revoked), (error) => error.code === "invalid_token");

    const beforeCutoff = await issue();
    await sleep(1100);
    cli([...ctx.common, "client", "invalidate-tokens-before", ctx.clientId]);
    await assert.rejects(guard.verify(beforeCutoff), (error) => error.code === "invalid_token");
    cli([...ctx.common, "client", "clear-tokens-invalid-before", ctx.clientId]);
    await guard.verify(beforeCutoff);

    cli([...ctx.common, "client", "disable", ctx.clientId]);
    await assert.rejects(guard.verify(beforeCutoff), (error) => error.code === "invalid_token");
    await assert.rejects(issue(), (error) => error instanceof AuthError && error.status === 401);
    cli([...ctx.common, "client", "enable", ctx.clientId]);
    await guard.verify(await issue());
  });

  test("a rotated secret works for the client at once", async (t) => {
    const ctx = await setup(t);
    const rotated = parseExports(cli([...ctx.common, "client", "rotate-secret", ctx.clientId, "--overlap-seconds", "0"]));
    const oldClient = createClient({ tokenUrl: ctx.tokenUrl, clientId: ctx.clientId, clientSecret: ctx.clientSecret });
    await assert.rejects(oldClient.getToken(), (error) => error.status === 401);
    const newClient = createClient({
      tokenUrl: ctx.tokenUrl,
      clientId: ctx.clientId,
      clientSecret: rotated.TRUSTLINE_CLIENT_SECRET,
    });
    await createGuard({ issuer: ISSUER, jwksUrl: ctx.jwksUrl }).verify(await newClient.getToken());
  });

  test("a Node provider and the CLI share one SQLite file", async (t) => {
    const ctx = await setup(t);
    const nodeProvider = createProvider({ issuer: ISSUER, storage: sqliteStorage(ctx.sqlitePath) });

    // A client created in Node gets tokens from the CLI server and shows in `client get`.
    const fromNode = await nodeProvider.clients.create({ name: "made-in-node", scopes: ["read:orders"] });
    const shown = JSON.parse(cli([...ctx.common, "client", "get", fromNode.clientId, "--json"]));
    assert.equal(shown.name, "made-in-node");
    const token = await createClient({ tokenUrl: ctx.tokenUrl, ...fromNode }).getToken();
    const identity = await createGuard({ issuer: ISSUER, jwksUrl: ctx.jwksUrl }).verify(token);
    assert.equal(identity.clientId, fromNode.clientId);

    // The CLI-created client gets a token from the Node provider's handle().
    const response = await nodeProvider.handle(
      new Request("https://auth.internal/auth/token", {
        method: "POST",
        headers: {
          authorization: basic(ctx.clientId, ctx.clientSecret),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: "grant_type=client_credentials",
      }),
    );
    assert.equal(response.status, 200);
    const listed = JSON.parse(cli([...ctx.common, "client", "list", "--json"]));
    assert.deepEqual(
      listed.map((client) => client.name).sort(),
      ["made-in-node", "order-processor"],
    );
  });

  test("health, readiness, 404 and request ids", async (t) => {
    const ctx = await setup(t);
    const health = await fetch(`${ctx.server.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const ready = await fetch(`${ctx.server.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready" });

    const missing = await fetch(`${ctx.server.baseUrl}/token`, { headers: { "x-request-id": "trace-123" } });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error, "not_found");
    assert.equal(missing.headers.get("x-request-id"), "trace-123");

    const generated = await fetch(ctx.jwksUrl, { headers: { "x-request-id": "bad id with spaces" } });
    assert.equal(generated.status, 200);
    assert.match(generated.headers.get("x-request-id"), /^[0-9a-f-]{36}$/);
    assert.equal(generated.headers.get("cache-control"), "public, max-age=600");
    const jwks = await generated.json();
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].alg, "ES256");
  });

  test("body and header limits answer 413 and 431", async (t) => {
    const ctx = await setup(t, { extraArgs: [] });
    const big = await rawRequest(ctx.server.address, {
      method: "POST",
      path: "/auth/token",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&pad=" + "x".repeat(20_000),
    });
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.body).error, "invalid_request");

    const longHeader = await rawRequest(ctx.server.address, {
      path: "/auth/.well-known/jwks.json",
      headers: { "x-filler": "y".repeat(20_000) },
    }).catch((error) => ({ status: `connection error ${error.code}` }));
    assert.equal(longHeader.status, 431);

    // The server still serves after both.
    assert.equal((await fetch(ctx.jwksUrl)).status, 200);
  });

  test("logs carry request id, client id and outcome, never secrets", async (t) => {
    const ctx = await setup(t);
    const token = await createClient({
      tokenUrl: ctx.tokenUrl,
      clientId: ctx.clientId,
      clientSecret: ctx.clientSecret,
    }).getToken();
    await fetch(ctx.tokenUrl, {
      method: "POST",
      headers: { authorization: basic(ctx.clientId, "wrong"), "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    await ctx.server.stop();

    const requests = ctx.server.logs.filter((entry) => entry.message === "request");
    const issued = requests.find((entry) => entry.event === "token.issued");
    assert.ok(issued, "a log line for the issued token");
    assert.equal(issued.client_id, ctx.clientId);
    assert.equal(issued.status, 200);
    assert.equal(issued.outcome, "success");
    assert.ok(issued.request_id);
    const failed = requests.find((entry) => entry.reason === "invalid_client");
    assert.ok(failed, "a log line for the rejected request");
    assert.equal(failed.status, 401);
    assert.equal(failed.outcome, "failure");

    const everything = ctx.server.rawLines.join("\n");
    assert.ok(!everything.includes(ctx.clientSecret), "the client secret is in the logs");
    assert.ok(!everything.includes(token), "the access token is in the logs");
    assert.ok(!everything.includes(token.split(".")[2]), "the token signature is in the logs");
    assert.equal(ctx.server.stdout(), "");
  });

  test("SIGTERM finishes the request in flight, then exits 0", async (t) => {
    const ctx = await setup(t);
    const [host, port] = ctx.server.address.split(":");
    const body = "grant_type=client_credentials";

    // Send the headers and half the body, signal, then send the rest.
    const response = new Promise((resolve, reject) => {
      const request = http.request(
        {
          host,
          port: Number(port),
          method: "POST",
          path: "/auth/token",
          agent: false,
          headers: {
            authorization: basic(ctx.clientId, ctx.clientSecret),
            "content-type": "application/x-www-form-urlencoded",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode, body: text }));
        },
      );
      request.on("error", reject);
      request.write(body.slice(0, 10));
      setTimeout(() => {
        ctx.server.process.kill("SIGTERM");
        setTimeout(() => request.end(body.slice(10)), 500);
      }, 300);
    });

    const answered = await response;
    assert.equal(answered.status, 200, answered.body);
    assert.ok(JSON.parse(answered.body).access_token);
    assert.equal(await ctx.server.stop(), 0);

    const messages = ctx.server.logs.map((entry) => entry.message);
    assert.ok(messages.includes("shutting down: finishing requests in flight"));
    assert.ok(messages.includes("all connections closed"));
    assert.equal(messages.at(-1), "stopped");
    await assert.rejects(fetch(ctx.jwksUrl), "no new connections after shutdown");
  });

  test("serve with an unreachable database exits 1 without the password", async () => {
    const result = runCli(
      ["--issuer", ISSUER, "--database-timeout", "2", "serve", "--port", "0"],
      { env: { TRUSTLINE_CLI_MYSQL_URL: "mysql://admin:hunter2@127.0.0.1:1/trustline" } },
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /127\.0\.0\.1:1/);
    assert.doesNotMatch(result.stderr, /hunter2/);
  });
});

// The same server on the PostgreSQL and MariaDB servers of the storage tests,
// when scripts/databases.sh has exported their URLs.
// A Node provider on the npm package's adapter for that server shares the tables.
const servers = [
  {
    name: "PostgreSQL",
    variable: "TRUSTLINE_TEST_POSTGRES_URL",
    cliVariable: "TRUSTLINE_CLI_POSTGRES_URL",
    open: (url, tablePrefix) => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      return { storage: postgresStorage(pool, { tablePrefix }), close: () => pool.end() };
    },
  },
  {
    name: "MariaDB",
    variable: "TRUSTLINE_TEST_MYSQL_URL",
    cliVariable: "TRUSTLINE_CLI_MYSQL_URL",
    open: (url, tablePrefix) => {
      const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
      return { storage: mysqlStorage(pool, { tablePrefix }), close: () => pool.end() };
    },
  },
];
for (const server of servers) {
  const url = process.env[server.variable];
  // scripts/test.sh sets TRUSTLINE_TEST_REQUIRE_DATABASES, so there a missing URL fails.
  const skip = url || process.env.TRUSTLINE_TEST_REQUIRE_DATABASES ? false : `${server.variable} is not set`;
  test(`serve on ${server.name} issues tokens the guard verifies`, { skip }, async (t) => {
    assert.ok(url, `${server.variable} is not set but TRUSTLINE_TEST_REQUIRE_DATABASES is`);
    const prefix = `cli_node_${Date.now()}_${Math.floor(Math.random() * 1e6)}_`;
    const env = { [server.cliVariable]: url };
    const common = ["--issuer", ISSUER, "--table-prefix", prefix];
    const created = parseExports(cli([...common, "client", "create", "--name", "svc", "--scope", "read"], { env }));
    const serve = await startServe(common, { env, t });

    const client = createClient({
      tokenUrl: `${serve.baseUrl}/auth/token`,
      clientId: created.TRUSTLINE_CLIENT_ID,
      clientSecret: created.TRUSTLINE_CLIENT_SECRET,
    });
    const guard = createGuard({ issuer: ISSUER, jwksUrl: `${serve.baseUrl}/auth/.well-known/jwks.json` });
    const identity = await guard.verify(await client.getToken());
    assert.equal(identity.clientId, created.TRUSTLINE_CLIENT_ID);
    assert.equal((await fetch(`${serve.baseUrl}/readyz`)).status, 200);

    // A client created by a Node provider on the same tables gets tokens from the CLI server.
    const node = server.open(url, prefix);
    t.after(() => node.close());
    const nodeProvider = createProvider({ issuer: ISSUER, storage: node.storage });
    const fromNode = await nodeProvider.clients.create({ name: "made-in-node", scopes: ["read"] });
    assert.equal(JSON.parse(cli([...common, "client", "get", fromNode.clientId, "--json"], { env })).name, "made-in-node");
    const nodeToken = await createClient({ tokenUrl: `${serve.baseUrl}/auth/token`, ...fromNode }).getToken();
    assert.equal((await guard.verify(nodeToken)).clientId, fromNode.clientId);

    cli([...common, "client", "revoke", created.TRUSTLINE_CLIENT_ID], { env });
    const again = createClient({
      tokenUrl: `${serve.baseUrl}/auth/token`,
      clientId: created.TRUSTLINE_CLIENT_ID,
      clientSecret: created.TRUSTLINE_CLIENT_SECRET,
    });
    await assert.rejects(again.getToken(), (error) => error.status === 401);
    assert.equal(await serve.stop(), 0);
  });
}
