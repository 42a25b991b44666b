// End to end on Bun: the provider served by Bun.serve with `fetch:
// provider.handle`, a calling service using trustline/client, and a
// receiving service that verifies tokens inside its own Bun fetch handler.

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { AuthError, createGuard, createProvider, memoryStorage } from "trustline";
import { sqliteStorage } from "trustline/adapters/sqlite";
import { createClient } from "trustline/client";

type Server = ReturnType<typeof Bun.serve>;

const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "trustline-bun-tests-"));
afterAll(() => fs.rmSync(tempDir, { recursive: true, force: true }));

/** Serves a provider with Bun.serve; the issuer is the server's own origin. */
function serveProvider(storage: ReturnType<typeof memoryStorage>) {
  // The port is known only once the server listens, and the issuer needs it.
  const server: Server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(null, { status: 503 }) });
  const issuer = `http://127.0.0.1:${server.port}`;
  const provider = createProvider({ issuer, storage, env: "test" });
  server.reload({ fetch: provider.handle });
  return { server, issuer, provider };
}

/**
 * Serves an inventory service: GET /orders needs "read:orders", GET /admin
 * needs "admin". A failed check responds with the AuthError's status and JSON.
 */
function serveInventory(issuer: string) {
  const readGuard = createGuard({ issuer, audience: "inventory", scopes: ["read:orders"], env: "test" });
  const adminGuard = createGuard({ issuer, audience: "inventory", scopes: ["admin"] });

  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      const header = request.headers.get("authorization");
      const token = header?.replace(/^Bearer\s+/, "") ?? "";
      const guard = new URL(request.url).pathname === "/admin" ? adminGuard : readGuard;
      try {
        const identity = await guard.verify(token);
        return Response.json({ caller: identity.name ?? identity.clientId, scopes: identity.scopes });
      } catch (error) {
        if (error instanceof AuthError) {
          return Response.json({ error: error.code, message: error.message }, { status: error.status });
        }
        throw error;
      }
    },
  });
}

describe("bun end to end", () => {
  let auth: ReturnType<typeof serveProvider>;
  let inventory: Server;
  let credentials: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    auth = serveProvider(memoryStorage());
    inventory = serveInventory(auth.issuer);
    credentials = await auth.provider.clients.create({ name: "order-processor", scopes: ["read:orders"] });
  });

  afterAll(() => {
    auth.server.stop(true);
    inventory.stop(true);
  });

  test("client call accepted by guard", async () => {
    const client = createClient({ tokenUrl: `${auth.issuer}/token`, ...credentials, audience: "inventory" });

    const response = await client.fetch(`http://127.0.0.1:${inventory.port}/orders`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ caller: "order-processor", scopes: ["read:orders"] });
  });

  test("missing token is 401", async () => {
    const response = await fetch(`http://127.0.0.1:${inventory.port}/orders`);

    expect(response.status).toBe(401);
    expect((await response.json()).error).toBe("missing_token");
  });

  test("missing scope is 403", async () => {
    const client = createClient({ tokenUrl: `${auth.issuer}/token`, ...credentials, audience: "inventory" });

    const response = await client.fetch(`http://127.0.0.1:${inventory.port}/admin`);

    expect(response.status).toBe(403);
    expect((await response.json()).error).toBe("invalid_scope");
  });

  test("wrong audience is 403", async () => {
    const client = createClient({ tokenUrl: `${auth.issuer}/token`, ...credentials, audience: "billing" });

    const response = await client.fetch(`http://127.0.0.1:${inventory.port}/orders`);

    expect(response.status).toBe(403);
    expect((await response.json()).error).toBe("invalid_audience");
  });

  test("wrong secret rejects with AuthError", async () => {
    const client = createClient({ tokenUrl: `${auth.issuer}/token`, clientId: credentials.clientId, clientSecret: "wrong" });

    const error = await client.getToken().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe("invalid_client");
    expect((error as AuthError).status).toBe(401);
  });

  test("jwks served by Bun.serve", async () => {
    const response = await fetch(`${auth.issuer}/.well-known/jwks.json`);

    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("public, max-age=600");
    const { keys } = await response.json();
    expect(keys.length).toBe(1);
    expect(keys[0].use).toBe("sig");
  });
});

describe("bun sqlite storage", () => {
  test("file path storage issues tokens", async () => {
    const auth = serveProvider(sqliteStorage(path.join(tempDir, "path.sqlite")));
    try {
      const created = await auth.provider.clients.create({ name: "sqlite-client", scopes: ["a"] });
      const token = await createClient({ tokenUrl: `${auth.issuer}/token`, ...created }).getToken();

      const identity = await createGuard({ issuer: auth.issuer }).verify(token);

      expect(identity.clientId).toBe(created.clientId);
    } finally {
      auth.server.stop(true);
    }
  });

  test("bun:sqlite database storage issues tokens", async () => {
    const database = new Database(path.join(tempDir, "handle.sqlite"));
    const auth = serveProvider(sqliteStorage(database));
    try {
      const created = await auth.provider.clients.create({ name: "bun-sqlite-client", scopes: ["a"] });
      const token = await createClient({ tokenUrl: `${auth.issuer}/token`, ...created }).getToken();

      const identity = await createGuard({ issuer: auth.issuer }).verify(token);

      expect(identity.name).toBe("bun-sqlite-client");
      const rows = database.query("SELECT client_id FROM trustline_clients").all() as { client_id: string }[];
      expect(rows.map((row) => row.client_id)).toEqual([created.clientId]);
    } finally {
      auth.server.stop(true);
    }
  });
});
