// An inventory service on Fastify 5 that also issues its own tokens, to show
// both adapters in one runnable file. In a real deployment the provider and
// the guarded service are separate services.
//
//   node examples/fastify/server.mjs            serves on 127.0.0.1:3000
//   node examples/fastify/server.mjs --check    calls itself once and exits
//
// PORT sets the port.

import Fastify from "fastify";
import { createGuard, createProvider, memoryStorage } from "trustline";
import { createClient } from "trustline/client";
import { createFastifyGuard, createFastifyProvider, requireScopes } from "trustline/frameworks/fastify";

const port = Number(process.env.PORT ?? 3000);
const origin = `http://127.0.0.1:${port}`;
const issuer = `${origin}/auth`;

const provider = createProvider({ issuer, storage: memoryStorage() });
const guard = createGuard({ issuer, audience: "inventory" });

const app = Fastify();

// POST /auth/token and GET /auth/.well-known/jwks.json. The prefix is the issuer's path.
await app.register(createFastifyProvider(provider), { prefix: "/auth" });

// The guard hook applies to the routes of this plugin only, not to the token endpoint.
await app.register(
  async (internal) => {
    internal.addHook("preHandler", createFastifyGuard(guard));
    internal.get("/orders", async (request) => ({ caller: request.trustline.name, orders: [] }));
    internal.post("/orders", { preHandler: requireScopes("write:orders") }, async (request, reply) => {
      return reply.code(201).send({ caller: request.trustline.name, created: request.body });
    });
  },
  { prefix: "/internal" },
);

await app.listen({ port, host: "127.0.0.1" });
console.log(`inventory service on ${origin}, issuer ${issuer}`);
const ok = await callAsAClient();
if (process.argv.includes("--check")) {
  await app.close();
  process.exitCode = ok ? 0 : 1;
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
