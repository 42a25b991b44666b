// The benchmark scenarios. Each returns a list of result rows:
// { scenario, case, value, unit, reference?, ratio? }, where `ratio` is
// value / reference measured in the same run.

import { createPublicKey } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import Database from "better-sqlite3";
import { createVerifier } from "fast-jwt";
import { createLocalJWKSet, jwtVerify } from "jose";
import { createGuard, createProvider, memoryStorage } from "trustline";
import { sqliteStorage } from "trustline/adapters/sqlite";

import {
  interleavedRates,
  issueTokens,
  listRate,
  loadAddon,
  preparedRate,
  sequentialRate,
  serve,
  settledRss,
  tokenRequest,
} from "./harness.mjs";

const ALGORITHMS = ["ES256", "RS256"];

function temporaryDirectory() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "trustline-bench-"));
}

/** A provider with one client, served over HTTP so that guards fetch its JWKS for real. */
async function providerSetup({ algorithm = "ES256", storage = memoryStorage() } = {}) {
  const server = await serve(() => new Response("starting", { status: 503 }));
  const issuer = server.origin;
  const provider = createProvider({ issuer, storage, signing: { algorithm } });
  server.handler = provider.handle;
  const client = await provider.clients.create({ name: "bench", scopes: ["read", "write"] });
  const makeRequest = tokenRequest(`${issuer}/token`, client.clientId, client.clientSecret);
  return { server, issuer, provider, storage, client, makeRequest };
}

/** The provider's plain-values entry point, which the Express and Fastify adapters use. */
const HANDLE_VALUES = Symbol.for("trustline.provider.handleValues");

/** Makes plain request values like those the Express and Fastify adapters pass, from a Web `Request`. */
function plainTokenRequest(request) {
  const headers = [...request.headers];
  const body = Buffer.from("grant_type=client_credentials");
  return () => ({ method: request.method, url: request.url, headers, body });
}

export async function issuance({ seconds }) {
  const addon = loadAddon();
  const rows = [];
  for (const algorithm of ALGORITHMS) {
    const rawRate = 1e9 / addon.benchmarkRawSign(algorithm, algorithm === "ES256" ? 20000 : 1000);
    for (const storageKind of ["memory", "sqlite"]) {
      const storage =
        storageKind === "memory" ? memoryStorage() : sqliteStorage(path.join(temporaryDirectory(), "bench.sqlite"));
      const setup = await providerSetup({ algorithm, storage });
      await issueTokens(setup.provider, setup.makeRequest, 5);

      const issue = (request) => setup.provider.handle(request);
      const sequential = await preparedRate(issue, setup.makeRequest, { seconds });
      const inFlight = await preparedRate(issue, setup.makeRequest, { seconds, concurrency: 64 });
      const handleValues = setup.provider[HANDLE_VALUES];
      const plainRequest = plainTokenRequest(setup.makeRequest());
      const plain = await preparedRate((request) => handleValues(request), plainRequest, { seconds });
      const base = { scenario: "issuance", unit: "tokens/s", reference: rawRate, referenceName: "raw aws-lc-rs sign" };
      rows.push({ ...base, case: `${algorithm}, ${storageKind}, sequential`, value: sequential });
      rows.push({ ...base, case: `${algorithm}, ${storageKind}, 64 in flight`, value: inFlight });
      rows.push({ ...base, case: `${algorithm}, ${storageKind}, sequential, plain values (Express, Fastify)`, value: plain });
      await setup.server.close();
    }
  }
  return rows;
}

/** Verifiers of the other libraries for the provider's current key. */
async function referenceVerifiers(setup, algorithm, cache) {
  const jwks = await (await fetch(`${setup.issuer}/.well-known/jwks.json`)).json();
  const publicKey = createPublicKey({ key: jwks.keys[0], format: "jwk" }).export({ type: "spki", format: "pem" });
  const localJwks = createLocalJWKSet(jwks);
  const fastJwt = createVerifier({ key: publicKey, algorithms: [algorithm], allowedIss: setup.issuer, cache });
  const jose = (token) => jwtVerify(token, localJwks, { issuer: setup.issuer, algorithms: [algorithm] });
  return { fastJwt, jose };
}

export async function verification({ seconds, tokenCount }) {
  const addon = loadAddon();
  const rows = [];
  for (const algorithm of ALGORITHMS) {
    const setup = await providerSetup({ algorithm });
    const guard = createGuard({ issuer: setup.issuer });
    const tokens = await issueTokens(setup.provider, setup.makeRequest, tokenCount);
    await guard.verify(tokens[0]);
    const { fastJwt, jose } = await referenceVerifiers(setup, algorithm, false);

    const raw = new addon.BenchmarkVerifier(algorithm);
    raw.run(1000);
    const rates = await interleavedRates(
      { ours: (token) => guard.verify(token), jose, fastJwt: (token) => fastJwt(token) },
      tokens.slice(1),
      { batches: { raw: (count) => raw.run(count) } },
    );
    const { ours, jose: withJose, fastJwt: withFastJwt, raw: rawRate } = rates;
    const base = { scenario: "verify, new token each time", unit: "verifications/s" };
    rows.push({ ...base, case: `${algorithm}, guard.verify vs fast-jwt (no cache)`, value: ours, reference: withFastJwt, referenceName: "fast-jwt" });
    rows.push({ ...base, case: `${algorithm}, guard.verify vs jose`, value: ours, reference: withJose, referenceName: "jose" });
    rows.push({ ...base, case: `${algorithm}, guard.verify vs raw aws-lc-rs verify`, value: ours, reference: rawRate, referenceName: "raw verify" });

    const storageGuard = createGuard({ issuer: setup.issuer, storage: setup.storage });
    const { fastJwt: cachedFastJwt } = await referenceVerifiers(setup, algorithm, true);
    const token = tokens[0];
    await storageGuard.verify(token);
    cachedFastJwt(token);
    const again = await sequentialRate(() => guard.verify(token), seconds);
    const againWithStorage = await sequentialRate(() => storageGuard.verify(token), seconds);
    const fastJwtAgain = await sequentialRate(() => cachedFastJwt(token), seconds);
    const sameBase = { scenario: "verify, same token again", unit: "verifications/s", reference: fastJwtAgain, referenceName: "fast-jwt (cache)" };
    rows.push({ ...sameBase, case: `${algorithm}, guard without storage`, value: again });
    rows.push({ ...sameBase, case: `${algorithm}, guard with storage (revocation applies)`, value: againWithStorage });
    await setup.server.close();
  }
  return rows;
}

function forge(token, part, value) {
  const parts = token.split(".");
  parts[part] = value;
  return parts.join(".");
}

function encodeJson(value) {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export async function rejection({ forgedCount }) {
  const setup = await providerSetup();
  const guard = createGuard({ issuer: setup.issuer });
  const tokens = await issueTokens(setup.provider, setup.makeRequest, forgedCount + 1);
  await guard.verify(tokens[0]);
  const valid = await listRate((token) => guard.verify(token), tokens.slice(1));

  const header = JSON.parse(Buffer.from(tokens[0].split(".")[0], "base64url"));
  const kinds = {
    "bad signature": tokens.slice(1).map((token) => forge(token, 2, Buffer.alloc(64, 7).toString("base64url"))),
    "unknown kid": tokens.slice(1).map((token, index) => forge(token, 0, encodeJson({ ...header, kid: `forged-${index}` }))),
    "alg none": tokens.slice(1).map((token) => forge(forge(token, 0, encodeJson({ alg: "none", kid: header.kid })), 2, "")),
    oversized: tokens.slice(1).map((token) => forge(token, 1, "A".repeat(20000))),
  };

  const rows = [];
  for (const [kind, forged] of Object.entries(kinds)) {
    const fetchesBefore = setup.server.requests;
    const rate = await listRate((token) => guard.verify(token).then(() => {
      throw new Error(`a forged token (${kind}) was accepted`);
    }, () => undefined), forged);
    const fetches = setup.server.requests - fetchesBefore;
    rows.push({
      scenario: "rejection of forged tokens",
      case: `${kind} (${forged.length} tokens, ${fetches} JWKS fetches)`,
      value: 1e6 / rate,
      unit: "µs per token",
      reference: 1e6 / valid,
      referenceName: "valid verification",
      jwksFetches: fetches,
    });
  }
  await setup.server.close();
  return rows;
}

/** Seeds a SQLite file with `clientCount` extra clients and `revokedCount` revoked jtis. */
function seedSqlite(file, clientCount, revokedCount) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  const now = new Date().toISOString();
  const later = new Date(Date.now() + 86400000).toISOString();
  const insertClient = db.prepare(
    `INSERT INTO trustline_clients (id, client_id, name, scopes, created_at, updated_at, current_secret_hash,
       current_secret_created_at, active) VALUES (?, ?, ?, '["read"]', ?, ?, 'sha256:x', ?, 1)`,
  );
  const insertRevoked = db.prepare("INSERT INTO trustline_revoked_tokens (jti, expires_at) VALUES (?, ?)");
  db.transaction(() => {
    for (let i = 0; i < clientCount; i++) {
      const id = `seed-${i.toString(16).padStart(12, "0")}`;
      insertClient.run(id, `svc_${id}`, `seeded ${i}`, now, now, now);
    }
    for (let i = 0; i < revokedCount; i++) {
      insertRevoked.run(`revoked-${i}`, later);
    }
  })();
  db.close();
}

export async function scaling({ seconds, clientCounts, revokedCount, tokenCount }) {
  const rows = [];
  for (const clientCount of clientCounts) {
    const file = path.join(temporaryDirectory(), "scale.sqlite");
    sqliteStorage(file);
    seedSqlite(file, clientCount, revokedCount);
    const storage = sqliteStorage(file);
    const setup = await providerSetup({ storage });
    const guard = createGuard({ issuer: setup.issuer, storage });
    const tokens = await issueTokens(setup.provider, setup.makeRequest, tokenCount);
    await guard.verify(tokens[0]);

    const issue = (request) => setup.provider.handle(request);
    const label = `${clientCount.toLocaleString("en-US")} clients, ${revokedCount.toLocaleString("en-US")} revoked jtis`;
    rows.push({ scenario: "scaling (SQLite)", case: `issuance, ${label}`, value: await preparedRate(issue, setup.makeRequest, { seconds }), unit: "tokens/s" });
    rows.push({ scenario: "scaling (SQLite)", case: `verify with storage, ${label}`, value: await listRate((token) => guard.verify(token), tokens.slice(1)), unit: "verifications/s" });
    await setup.server.close();
  }
  return rows;
}

/**
 * Issuance and verification on PostgreSQL through a `pg` Pool, with seeded
 * clients and revoked jtis. Runs when TRUSTLINE_TEST_POSTGRES_URL is set
 * (scripts/databases.sh starts a server); each case uses its own tables.
 */
export async function scalingPostgres({ seconds, clientCounts, revokedCount, tokenCount }) {
  const url = process.env.TRUSTLINE_TEST_POSTGRES_URL;
  if (!url) {
    console.log("scaling (PostgreSQL): skipped, TRUSTLINE_TEST_POSTGRES_URL is not set");
    return [];
  }
  const { default: pg } = await import("pg");
  const { postgresStorage } = await import("trustline/adapters/postgres");
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const rows = [];
  for (const clientCount of clientCounts.filter((count) => count <= 100000)) {
    const tablePrefix = `bench_${process.pid}_${clientCount}_`;
    const storage = postgresStorage(pool, { tablePrefix });
    await storage.listClients();
    await pool.query(
      `INSERT INTO ${tablePrefix}clients (id, client_id, name, scopes, created_at, updated_at, current_secret_hash,
         current_secret_created_at, active)
       SELECT 'seed-' || n, 'svc_seed_' || n, 'seeded ' || n, '["read"]', $1, $1, 'sha256:x', $1, true
       FROM generate_series(1, $2::int) AS n`,
      [new Date().toISOString(), clientCount],
    );
    await pool.query(
      `INSERT INTO ${tablePrefix}revoked_tokens (jti, expires_at)
       SELECT 'revoked-' || n, $1 FROM generate_series(1, $2::int) AS n`,
      [new Date(Date.now() + 86400000).toISOString(), revokedCount],
    );

    const setup = await providerSetup({ storage });
    const guard = createGuard({ issuer: setup.issuer, storage });
    const tokens = await issueTokens(setup.provider, setup.makeRequest, Math.min(tokenCount, 5000));
    await guard.verify(tokens[0]);
    const issue = (request) => setup.provider.handle(request);
    const label = `${clientCount.toLocaleString("en-US")} clients, ${revokedCount.toLocaleString("en-US")} revoked jtis`;
    rows.push({ scenario: "scaling (PostgreSQL)", case: `issuance, ${label}`, value: await preparedRate(issue, setup.makeRequest, { seconds }), unit: "tokens/s" });
    rows.push({ scenario: "scaling (PostgreSQL)", case: `verify with storage, ${label}`, value: await listRate((token) => guard.verify(token), tokens.slice(1)), unit: "verifications/s" });
    await setup.server.close();
    for (const table of ["clients", "signing_keys", "revoked_tokens"]) {
      await pool.query(`DROP TABLE IF EXISTS ${tablePrefix}${table}`);
    }
  }
  await pool.end();
  return rows;
}

export async function memory({ verificationCount }) {
  const setup = await providerSetup();
  const guard = createGuard({ issuer: setup.issuer });
  const pool = await issueTokens(setup.provider, setup.makeRequest, 10000);
  await guard.verify(pool[0]);

  const before = settledRss();
  for (let i = 0; i < verificationCount; i++) {
    await guard.verify(pool[i % pool.length]);
  }
  const after = settledRss();

  // Guards filled with as many distinct tokens as their caches keep, each token
  // verified three times: the core keeps a token from its second verification and
  // the Node guard its identity from the third. The first guard warms the
  // allocators, so that the second one's growth is its own.
  const entries = 4096;
  const fill = async () => {
    const filling = createGuard({ issuer: setup.issuer });
    for (let i = 0; i < entries; i++) {
      for (let use = 0; use < 3; use++) {
        await filling.verify(pool[i]);
      }
    }
    return filling;
  };
  const warm = await fill();
  const empty = settledRss();
  const filled = await fill();
  const full = settledRss();
  void warm;
  void filled;
  await setup.server.close();
  return [
    {
      scenario: "memory",
      case: `bytes per verified token kept (${entries.toLocaleString("en-US")} tokens, both caches)`,
      value: (full - empty) / entries,
      unit: "bytes",
    },
    {
      scenario: "memory",
      case: `RSS growth over ${verificationCount.toLocaleString("en-US")} verifications (10,000 distinct tokens)`,
      value: (after - before) / (1024 * 1024),
      unit: "MiB",
    },
  ];
}

