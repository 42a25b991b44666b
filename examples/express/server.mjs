// An inventory service on Express that also issues its own tokens, to show
// both adapters in one runnable file. In a real deployment the provider and
// the guarded service are separate services.
//
//   node examples/express/server.mjs            serves on 127.0.0.1:3000
//   node examples/express/server.mjs --check    calls itself once and exits
//
// Works with Express 4 and 5. PORT sets the port.

import express from "express";
import { createGuard, createProvider, memoryStorage } from "trustline";
import { createClient } from "trustline/client";
import { createExpressGuard, createExpressProvider, requireScopes } from "trustline/frameworks/express";

const port = Number(process.env.PORT ?? 3000);
const origin = `http://127.0.0.1:${port}`;
const issuer = `${origin}/auth`;

const provider = createProvider({ issuer, storage: memoryStorage() });
const guard = createGuard({ issuer, audience: "inventory" });

const app = express();
app.use(express.json());

// POST /auth/token and GET /auth/.well-known/jwks.json. The mount path is the issuer's path.
app.use("/auth", createExpressProvider(provider));

// Every route under /internal needs a valid token; one route needs one more scope.
app.use("/internal", createExpressGuard(guard));
app.get("/internal/orders", (request, response) => {
  response.json({ caller: request.trustline.name, orders: [] });
});
app.post("/internal/orders", requireScopes("write:orders"), (request, response) => {
  response.status(201).json({ caller: request.trustline.name, created: request.body });
});

const server = app.listen(port, "127.0.0.1", async () => {
  console.log(`inventory service on ${origin}, issuer ${issuer}`);
  const ok = await callAsAClient();
  if (process.argv.includes("--check")) {
    server.close();
    process.exitCode = ok ? 0 : 1;
  }
});

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
