// Two services on Bun with no framework: a token provider served by
// `Bun.serve({ fetch: provider.handle })`, and an inventory service whose
// fetch handlers verify the caller's token.
//
//   bun examples/bun/server.ts            provider on 127.0.0.1:3000, inventory on :3001
//   bun examples/bun/server.ts --check    calls the inventory once and exits
//
// PORT sets the provider's port; the inventory service takes the next one.

import { createGuard, createProvider, memoryStorage } from "trustline";
import { createClient } from "trustline/client";
import { createFetchGuard } from "trustline/frameworks/fetch";

const port = Number(process.env.PORT ?? 3000);
const issuer = `http://127.0.0.1:${port}`;
const inventoryOrigin = `http://127.0.0.1:${port + 1}`;

// The provider: POST /token and GET /.well-known/jwks.json. `handle` needs no `this`.
const provider = createProvider({ issuer, storage: memoryStorage() });
const auth = Bun.serve({ port, hostname: "127.0.0.1", fetch: provider.handle });

// The inventory service. `protect` reads the bearer token, verifies it and
// responds 401 or 403 with JSON `{ error, message }` when that fails.
const guard = createGuard({ issuer, audience: "inventory" });
const protect = createFetchGuard(guard);
const listOrders = protect((request, identity) => Response.json({ caller: identity.name, orders: [] }));
const createOrder = protect(
  async (request, identity) => Response.json({ caller: identity.name, created: await request.json() }, { status: 201 }),
  { scopes: ["write:orders"] },
);

const inventory = Bun.serve({
  port: port + 1,
  hostname: "127.0.0.1",
  fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname !== "/orders") {
      return Response.json({ error: "not_found" }, { status: 404 });
    }
    return request.method === "POST" ? createOrder(request) : listOrders(request);
  },
});

console.log(`provider on ${issuer}, inventory service on ${inventoryOrigin}`);
const ok = await callAsAClient();
if (process.argv.includes("--check")) {
  auth.stop(true);
  inventory.stop(true);
  process.exitCode = ok ? 0 : 1;
}

/** Registers a client that may only read, and calls both routes with its token. */
async function callAsAClient(): Promise<boolean> {
  const credentials = await provider.clients.create({ name: "order-reader", scopes: ["read:orders"] });
  const client = createClient({ tokenUrl: `${issuer}/token`, ...credentials, audience: "inventory" });

  const list = await client.fetch(`${inventoryOrigin}/orders`);
  console.log(`GET /orders -> ${list.status}`, await list.json());
  const create = await client.fetch(`${inventoryOrigin}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sku: "A-1" }),
  });
  console.log(`POST /orders -> ${create.status}`, await create.json());

  return list.status === 200 && create.status === 403;
}
