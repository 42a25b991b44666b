// A provider instance in its own process, as one of several behind a load
// balancer: PostgreSQL storage through its own pg Pool, served on
// 127.0.0.1. Started by multi-process.test.mjs.
//
// Environment: TRUSTLINE_TEST_DATABASE_URL (the shared database) and
// TRUSTLINE_TEST_ISSUER. Prints one JSON line `{ "origin": ... }` once it
// listens. Besides the provider's endpoints it serves admin calls for the
// test: POST /admin/clients `{ name, scopes }`, POST /admin/rotate-key and
// POST /admin/revoke `{ jti, expiresAt }`, each returning JSON.

import pg from "pg";

import { createProvider } from "trustline";
import { postgresStorage } from "trustline/adapters/postgres";

import { startServer } from "../../node/helpers/http.mjs";

const pool = new pg.Pool({ connectionString: process.env.TRUSTLINE_TEST_DATABASE_URL, max: 4 });
const provider = createProvider({
  issuer: process.env.TRUSTLINE_TEST_ISSUER,
  storage: postgresStorage(pool),
});

async function admin(path, body) {
  switch (path) {
    case "/admin/clients":
      return provider.clients.create({ name: body.name, scopes: body.scopes });
    case "/admin/rotate-key":
      return provider.keys.rotate();
    case "/admin/revoke":
      await provider.tokens.revoke(body.jti, new Date(body.expiresAt));
      return { revoked: body.jti };
    default:
      return undefined;
  }
}

const server = await startServer(async (request) => {
  const { pathname } = new URL(request.url);
  if (!pathname.startsWith("/admin/")) {
    return provider.handle(request);
  }
  try {
    const body = request.method === "POST" ? await request.json().catch(() => ({})) : {};
    const result = await admin(pathname, body);
    return result === undefined
      ? Response.json({ error: "not_found" }, { status: 404 })
      : Response.json(result);
  } catch (error) {
    return Response.json({ error: error.code ?? "failed", message: error.message }, { status: error.status ?? 500 });
  }
});

process.stdout.write(`${JSON.stringify({ origin: server.origin })}\n`);

process.on("SIGTERM", async () => {
  await server.close();
  await pool.end();
  process.exit(0);
});
