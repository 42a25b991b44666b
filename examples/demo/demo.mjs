// Trustline end to end over real HTTP on 127.0.0.1:
//
//   provider           issues tokens (POST /token) and publishes its JWKS,
//                      with clients, keys and revocations in a SQLite file
//   inventory service  a receiving service guarded by createGuard()
//   callers            calling services using createClient() from trustline/client
//
// Each step prints what happened and checks the expected outcome. The process
// exits with 1 if any check fails, and with 0 otherwise. Client secrets and
// tokens are never printed: only client ids, claims and status codes.
//
// Run it after `npm run build` with `node examples/demo/demo.mjs`, or run
// `bash scripts/demo.sh`, which installs and builds first.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { AuthError, createGuard, createProvider } from "trustline";
import { sqliteStorage } from "trustline/adapters/sqlite";
import { createClient } from "trustline/client";

const AUDIENCE = "inventory-service";
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// The database file is deleted and recreated on every run, and left in place
// afterwards so that its tables can be inspected with `sqlite3`.
// TRUSTLINE_DEMO_DIR sets another directory for it.
const DEMO_DIR = process.env.TRUSTLINE_DEMO_DIR ?? path.join(REPO_ROOT, ".trustline-demo");
const DATABASE_PATH = path.join(DEMO_DIR, "trustline.sqlite");

const INVENTORY = [
  { sku: "BOLT-M6", quantity: 1200 },
  { sku: "NUT-M6", quantity: 950 },
  { sku: "WASHER-6", quantity: 3100 },
];

// ---------------------------------------------------------------------------
// Output and checks

const failures = [];

function heading(text) {
  console.log(`\n${text}`);
}

function detail(label, value) {
  console.log(`    ${label.padEnd(18)} ${value}`);
}

/** Records one expected outcome. A mismatch is printed and makes the process exit with 1. */
function check(description, actual, expected) {
  if (actual === expected) {
    console.log(`    ok    ${description}: ${actual}`);
  } else {
    console.log(`    FAIL  ${description}: expected ${expected}, got ${actual}`);
    failures.push(`${description}: expected ${expected}, got ${actual}`);
  }
}

/** Formats a NumericDate claim (seconds since the epoch) as an ISO-8601 time. */
function numericDate(seconds) {
  return typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : String(seconds);
}

/**
 * Decodes the claims of a JWT without verifying it. The caller uses this only
 * to read the `jti` and `exp` of its own token for the revocation step.
 */
function decodeClaims(token) {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}

// ---------------------------------------------------------------------------
// HTTP servers

/** Reads a node:http request body to the end. */
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts a node:http server on 127.0.0.1 and a free port, and resolves once it listens. */
async function listen(handler) {
  const server = http.createServer((req, res) => {
    handler(req, res).catch((error) => {
      console.error(`    server error on ${req.method} ${req.url}: ${error?.stack ?? error}`);
      if (!res.headersSent) {
        sendJson(res, 500, { error: "server_error", message: "internal error" });
      } else {
        res.destroy();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

  const { port } = server.address();
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/**
 * Serves `provider.handle` (Web Fetch API) on a plain node:http server: the
 * request is converted to a `Request` and the `Response` written back.
 */
async function startProviderServer(getProvider) {
  const server = await listen(async (req, res) => {
    const body = await readBody(req);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const hasBody = req.method !== "GET" && req.method !== "HEAD" && body.length > 0;
    const request = new Request(server.origin + req.url, {
      method: req.method,
      headers,
      body: hasBody ? body : undefined,
    });

    const response = await getProvider().handle(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  return server;
}

/** Returns the token of an `Authorization: Bearer <token>` header, or "" if there is none. */
function bearerToken(req) {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  return match ? match[1].trim() : "";
}

/**
 * Starts the inventory service. `GET /inventory` requires `read:inventory`
 * and `POST /inventory/adjust` requires `write:inventory`. A failed check gets
 * a response with the AuthError's status and `{ error, message }` as JSON.
 */
async function startInventoryService({ issuer, storage }) {
  const readGuard = createGuard({ issuer, audience: AUDIENCE, scopes: ["read:inventory"], storage });
  const writeGuard = createGuard({ issuer, audience: AUDIENCE, scopes: ["write:inventory"], storage });

  const routes = {
    "GET /inventory": { guard: readGuard, respond: () => ({ items: INVENTORY }) },
    "POST /inventory/adjust": { guard: writeGuard, respond: () => ({ adjusted: true }) },
  };

  return listen(async (req, res) => {
    await readBody(req);
    const route = routes[`${req.method} ${new URL(req.url, "http://localhost").pathname}`];
    if (!route) {
      sendJson(res, 404, { error: "not_found", message: `no route for ${req.method} ${req.url}` });
      return;
    }

    let identity;
    try {
      identity = await route.guard.verify(bearerToken(req));
    } catch (error) {
      if (!(error instanceof AuthError)) {
        throw error;
      }
      console.log(`    [inventory] ${req.method} ${req.url} rejected: ${error.status} ${error.code}`);
      sendJson(res, error.status, { error: error.code, message: error.message });
      return;
    }

    const claims = identity.raw;
    console.log(`    [inventory] ${req.method} ${req.url} accepted, verified claims:`);
    console.log(`        sub=${claims.sub} name=${claims.name} scope="${claims.scope}" aud=${claims.aud}`);
    console.log(`        iss=${claims.iss} jti=${claims.jti}`);
    console.log(`        iat=${numericDate(claims.iat)} exp=${numericDate(claims.exp)}`);
    sendJson(res, 200, {
      caller: { clientId: identity.clientId, name: identity.name, scopes: identity.scopes },
      ...route.respond(),
    });
  });
}

// ---------------------------------------------------------------------------
// The demo

/** Awaits a response and prints its status, and for an error its JSON `error` and `message`. */
async function show(label, responsePromise) {
  const response = await responsePromise;
  const body = await response.json().catch(() => null);
  const summary = response.ok ? "" : ` ${body?.error}: ${body?.message}`;
  console.log(`    ${label} -> HTTP ${response.status}${summary}`);
  return { status: response.status, body };
}

async function main(resources) {
  console.log("Trustline demo: provider, callers and a guarded service over HTTP on 127.0.0.1");

  heading("Setup");
  fs.mkdirSync(DEMO_DIR, { recursive: true });
  for (const suffix of ["", "-wal", "-shm", "-journal"]) {
    fs.rmSync(DATABASE_PATH + suffix, { force: true });
  }

  const providerStorage = sqliteStorage(DATABASE_PATH);

  let provider;
  const providerServer = await startProviderServer(() => provider);
  resources.push(() => providerServer.close());
  const issuer = providerServer.origin;
  provider = createProvider({ issuer, storage: providerStorage, token: { ttl: 300 } });

  // The inventory service opens the same database file through its own
  // connection, as a separate process would, so that its guard checks
  // revocations and disabled clients in the provider's database.
  const serviceStorage = sqliteStorage(DATABASE_PATH);
  const inventory = await startInventoryService({ issuer, storage: serviceStorage });
  resources.push(() => inventory.close());

  const reader = await provider.clients.create({ name: "stock-reporter", scopes: ["read:inventory"] });
  const outsider = await provider.clients.create({ name: "billing-job", scopes: ["read:invoices"] });

  detail("database", path.relative(process.cwd(), DATABASE_PATH) || DATABASE_PATH);
  detail("provider", `${issuer} (issuer, POST /token, GET /.well-known/jwks.json)`);
  detail("inventory service", `${inventory.origin} (audience "${AUDIENCE}")`);
  detail("client", `stock-reporter ${reader.clientId} scopes: read:inventory`);
  detail("client", `billing-job    ${outsider.clientId} scopes: read:invoices`);
  console.log("    (client secrets were returned once by clients.create and are not printed)");

  const tokenUrl = `${issuer}/token`;
  const readerClient = createClient({
    tokenUrl,
    clientId: reader.clientId,
    clientSecret: reader.clientSecret,
    audience: AUDIENCE,
  });
  const outsiderClient = createClient({
    tokenUrl,
    clientId: outsider.clientId,
    clientSecret: outsider.clientSecret,
    audience: AUDIENCE,
  });
  const inventoryUrl = `${inventory.origin}/inventory`;

  heading("1. Request without a token");
  const anonymous = await show("GET /inventory", fetch(inventoryUrl));
  check("status", anonymous.status, 401);
  check("error", anonymous.body?.error, "missing_token");

  heading("2. stock-reporter calls with a token (client.fetch gets one from POST /token)");
  const allowed = await show("GET /inventory", readerClient.fetch(inventoryUrl));
  check("status", allowed.status, 200);
  check("caller seen by the service", allowed.body?.caller?.clientId, reader.clientId);
  check("items returned", allowed.body?.items?.length, INVENTORY.length);

  heading("3. billing-job lacks the read:inventory scope");
  const wrongClient = await show("GET /inventory", outsiderClient.fetch(inventoryUrl));
  check("status", wrongClient.status, 403);
  check("error", wrongClient.body?.error, "invalid_scope");

  heading("4. stock-reporter calls a route that requires write:inventory");
  const wrongRoute = await show(
    "POST /inventory/adjust",
    readerClient.fetch(`${inventory.origin}/inventory/adjust`, { method: "POST" }),
  );
  check("status", wrongRoute.status, 403);
  check("error", wrongRoute.body?.error, "invalid_scope");

  heading("5. The provider revokes stock-reporter's token by its jti");
  // The client caches its token, so this is the same token as in step 2.
  const { jti, exp } = decodeClaims(await readerClient.getToken());
  await provider.tokens.revoke(jti, new Date(exp * 1000));
  detail("revoked jti", `${jti} (remembered until ${numericDate(exp)})`);
  const revoked = await show("GET /inventory", readerClient.fetch(inventoryUrl));
  check("status", revoked.status, 401);
  check("error", revoked.body?.error, "invalid_token");

  heading("6. A new client instance gets a new token, which is not revoked");
  const freshClient = createClient({
    tokenUrl,
    clientId: reader.clientId,
    clientSecret: reader.clientSecret,
    audience: AUDIENCE,
  });
  const fresh = await show("GET /inventory", freshClient.fetch(inventoryUrl));
  check("status", fresh.status, 200);
  check("new token has another jti", decodeClaims(await freshClient.getToken()).jti !== jti, true);
}

async function run() {
  // Cleanup functions, run in reverse order whether the demo succeeds or throws.
  const resources = [];
  try {
    await main(resources);
  } catch (error) {
    console.error(`\nThe demo stopped on an unexpected error: ${error?.stack ?? error}`);
    failures.push("unexpected error");
  } finally {
    for (const release of resources.reverse()) {
      try {
        await release();
      } catch (error) {
        console.error(`cleanup failed: ${error?.message ?? error}`);
      }
    }
  }

  if (failures.length > 0) {
    console.log(`\nDemo FAILED: ${failures.length} check(s) did not match:`);
    for (const failure of failures) {
      console.log(`  - ${failure}`);
    }
    process.exitCode = 1;
  } else {
    console.log("\nDemo passed: every step gave the expected result.");
  }
}

await run();
