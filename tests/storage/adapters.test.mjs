// The handle adapters' own behaviour: which handles they accept, option
// checks, drivers that hang or throw, and that importing the package loads
// no database driver.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import Database from "better-sqlite3";
import pg from "pg";

import { AuthError, createProvider } from "trustline";
import { mysqlStorage } from "trustline/adapters/mysql";
import { postgresStorage } from "trustline/adapters/postgres";
import { sqliteStorage } from "trustline/adapters/sqlite";

import { POSTGRES_URL, missingServer } from "./helpers/backends.mjs";

const DIST = new URL("../../dist/", import.meta.url);

async function assertStorageUnavailable(promise, messagePattern) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof AuthError, `expected AuthError, got ${error?.constructor?.name}: ${error?.message}`);
    assert.equal(error.code, "storage_unavailable");
    assert.equal(error.status, 503);
    if (messagePattern) assert.match(error.message, messagePattern);
    return true;
  });
}

/** Sends a token request straight to `provider.handle`, with no HTTP server. */
function tokenRequest(provider) {
  return provider.handle(
    new Request("https://auth.test/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials&client_id=svc_x&client_secret=y",
    }),
  );
}

describe("adapter arguments", () => {
  test("sqliteStorage rejects unknown handles", () => {
    for (const value of [{}, 42, null, { prepare() {} }]) {
      assert.throws(() => sqliteStorage(value), {
        name: "TypeError",
        message: /file path, a better-sqlite3 Database or a bun:sqlite Database/,
      });
    }
    assert.throws(() => sqliteStorage(""), TypeError);
  });

  test("postgresStorage rejects a non-pool", () => {
    for (const value of [undefined, null, {}, "postgres://localhost"]) {
      assert.throws(() => postgresStorage(value), { name: "TypeError", message: /takes a pg Pool/ });
    }
  });

  test("mysqlStorage rejects a non-pool", () => {
    for (const value of [undefined, null, {}, "mysql://localhost"]) {
      assert.throws(() => mysqlStorage(value), { name: "TypeError", message: /takes a mysql2 pool/ });
    }
  });

  test("options are checked", () => {
    const db = new Database(":memory:");
    assert.throws(() => sqliteStorage(db, { tablePrefix: 5 }), /options.tablePrefix must be a string/);
    assert.throws(() => sqliteStorage(db, { tables: { clients: "" } }), /options.tables.clients/);
    const pool = { query: async () => ({ rows: [], rowCount: 0 }) };
    for (const queryTimeoutSeconds of [0, -1, "5", Number.NaN]) {
      assert.throws(() => postgresStorage(pool, { queryTimeoutSeconds }), /queryTimeoutSeconds must be a positive number/);
    }
    db.close();
  });

  test("callback-only pool is reported", async () => {
    // The `mysql` package's pools take callbacks and return no promise.
    const storage = mysqlStorage({ query: () => ({ on() {} }) });

    await assertStorageUnavailable(storage.listClients(), /needs a mysql2 pool/);
  });
});

describe("drivers that fail", () => {
  test("driver throwing synchronously rejects", async () => {
    const storage = postgresStorage({
      query() {
        throw new Error("connection string is malformed");
      },
    });

    await assertStorageUnavailable(storage.listClients(), /connection string is malformed/);
  });

  test("hanging driver times out as 503", async () => {
    const storage = postgresStorage({ query: () => new Promise(() => {}) }, { queryTimeoutSeconds: 0.2 });
    const provider = createProvider({ issuer: "https://auth.test", storage });

    const started = Date.now();
    const response = await tokenRequest(provider);

    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    assert.equal((await response.json()).error, "temporarily_unavailable");
    assert.ok(Date.now() - started < 2000, `answered after ${Date.now() - started} ms`);
    await assertStorageUnavailable(provider.clients.list(), /timed out after 200 ms/);
  });

  test("pool out of connections times out", { skip: missingServer(POSTGRES_URL, "TRUSTLINE_TEST_POSTGRES_URL") }, async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    const storage = postgresStorage(pool, { queryTimeoutSeconds: 0.5, tablePrefix: "exhausted_" });
    const provider = createProvider({ issuer: "https://auth.test", storage });
    await provider.clients.list();

    // The only connection is checked out and not released.
    const held = await pool.connect();
    try {
      const response = await tokenRequest(provider);
      assert.equal(response.status, 503);
      assert.equal(response.headers.get("retry-after"), "5");
    } finally {
      held.release();
    }

    assert.deepEqual(await provider.clients.list(), []);
    await pool.query("DROP TABLE exhausted_clients, exhausted_signing_keys, exhausted_revoked_tokens");
    await pool.end();
  });

  test("token endpoint with no database", async () => {
    // Nothing listens on port 1 of the loopback address.
    const pool = new pg.Pool({ connectionString: "postgres://nobody:none@127.0.0.1:1/none" });
    const storage = postgresStorage(pool);
    const provider = createProvider({ issuer: "https://auth.test", storage });

    const response = await tokenRequest(provider);

    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "5");
    await pool.end();
  });
});

describe("package imports", () => {
  test("built files import no driver", () => {
    const files = [];
    const walk = (dir) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = new URL(entry.name + (entry.isDirectory() ? "/" : ""), dir);
        if (entry.isDirectory()) walk(full);
        else if (/\.(c?js)$/.test(entry.name)) files.push(full);
      }
    };
    walk(DIST);

    assert.ok(files.length > 0, "dist/ has JavaScript files: run npm run build");
    const driverImport = /(?:from\s*|require\(\s*|import\(\s*)["'](pg|mysql2(\/promise)?|better-sqlite3|bun:sqlite)["']/;
    for (const file of files) {
      const match = driverImport.exec(fs.readFileSync(file, "utf8"));
      assert.equal(match, null, `${fileURLToPath(file)} imports ${match?.[1]}`);
    }
  });

  test("require loads no driver", () => {
    // Fails the child process if any entry point requires a driver.
    const script = `
      const Module = require("node:module");
      const load = Module._load;
      Module._load = function (request, ...rest) {
        if (/^(pg|mysql2|better-sqlite3)(\\/|$)/.test(request)) throw new Error("loaded " + request);
        return load.call(this, request, ...rest);
      };
      for (const entry of ["trustline", "trustline/client", "trustline/adapters/sqlite", "trustline/adapters/postgres", "trustline/adapters/mysql"]) {
        require(entry);
      }
      process.stdout.write("ok");
    `;

    const output = execFileSync(process.execPath, ["-e", script], { encoding: "utf8" });

    assert.equal(output, "ok");
  });
});
