// Type-checked by tests/frameworks/types.test.mjs: the Fastify entry point
// merges `trustline` into FastifyRequest.

import Fastify from "fastify";
import { createGuard, createProvider, memoryStorage, type ServiceIdentity } from "trustline";
import { createFastifyGuard, createFastifyProvider, requireScopes } from "trustline/frameworks/fastify";

const app = Fastify();
const provider = createProvider({ issuer: "https://auth.internal/auth", storage: memoryStorage() });
const guard = createGuard({ issuer: "https://auth.internal/auth" });

await app.register(createFastifyProvider(provider), { prefix: "/auth" });

app.get("/orders", { preHandler: createFastifyGuard(guard) }, async (request) => {
  const identity: ServiceIdentity | undefined = request.trustline;
  return { caller: identity?.clientId };
});

await app.register(async (scope) => {
  scope.addHook("preHandler", createFastifyGuard(guard));
  scope.post("/orders", { preHandler: requireScopes("write:orders") }, async (request) => request.trustline?.scopes);
});

// @ts-expect-error the identity is not a number
const wrong: number = ({} as import("fastify").FastifyRequest).trustline;
void wrong;
