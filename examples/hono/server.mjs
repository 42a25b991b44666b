// An inventory service on Hono 4 that also issues its own tokens, to show
// both adapters in one runnable file. In a real deployment the provider and
// the guarded service are separate services.
//
//   node examples/hono/server.mjs            serves on 127.0.0.1:3000 (@hono/node-server)
//   bun examples/hono/server.mjs             the same on Bun (Bun.serve)
//   ... --check                              calls itself once and exits
//
// PORT sets the port.

import { Hono } from "hono";
import { createGuard, createProvider, memoryStorage } from "trustline";
import { createClient } from "trustline/client";
import { createHonoGuard, createHonoProvider, requireScopes } from "trustline/frameworks/hono";

const port = Number(process.env.PORT ?? 3000);
const origin = `http://127.0.0.1:${port}`;
const issuer = `${origin}/auth`;

const provider = createProvider({ issuer, storage: memoryStorage() });
const guard = createGuard({ issuer, audience: "inventory" });

const app = new Hono();

// POST /auth/token and GET /auth/.well-known/jwks.json. The mount path is the issuer's path.
app.route("/auth", createHonoProvider(provider));

// Every route under /internal needs a valid token; one route needs one more scope.
app.use("/internal/*", createHonoGuard(guard));
app.get("/internal/orders", (c) => c.json({ caller: c.get("trustline").name, orders: [] }));
app.post("/internal/orders", requireScopes("write:orders"), async (c) => {
  return c.json({ caller: c.get("trustline").name, created: await c.req.json() }, 201);
});

const stop = await serve(app);
console.log(`inventory service on ${origin}, issuer ${issuer}`);
const ok = await callAsAClient();
if (process.argv.includes("--check")) {
  await stop();
  process.exitCode = ok ? 0 : 1;
}

/** Serves the app with Bun.serve on Bun and with @hono/node-server on Node.js; returns a stop function. */
async function serve(honoApp) {
  if (typeof Bun !== "undefined") {
    const server = Bun.serve({ port, hostname: "127.0.0.1", fetch: honoApp.fetch });
    return async () => server.stop(true);
  }

  const { serve: serveNode } = await import("@hono/node-server");
  const server = await new Promise((resolve) => {
    const started = serveNode({ fetch: honoApp.fetch, port, hostname: "127.0.0.1" }, () => resolve(started));
  });
  return () => new Promise((resolve) => server.close(resolve));
}

/** Registers a client that may only read, and calls both routes with its token. */
async function callAsAClient() {
  const credentials = await provider.clients.create({ name: "order-reader", scopes: ["read:orders"] });
  const client = createClient({ tokenUrl: `${issuer}/token`, ...credentials, audience: "inventory" });

  const list = await client.fetch(`${origin}/internal/orders`);
  console.log(`GET /internal/orders -> ${list.status}`, await list.json());
  const create = await client.fetch(`${origin}/internal/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sku: "A-1" }),
  });
  console.log(`POST /internal/orders -> ${create.status}`, await create.json());

  return list.status === 200 && create.status === 403;
}
