// Type-checked by tests/frameworks/types.test.mjs: the Hono entry point types
// `c.get("trustline")` through its Variables.

import { Hono } from "hono";
import { createGuard, createProvider, memoryStorage, type ServiceIdentity } from "trustline";
import {
  createHonoGuard,
  createHonoProvider,
  requireScopes,
  type TrustlineEnv,
} from "trustline/frameworks/hono";

const provider = createProvider({ issuer: "https://auth.internal/auth", storage: memoryStorage() });
const guard = createGuard({ issuer: "https://auth.internal/auth" });

const app = new Hono<TrustlineEnv>();
app.route("/auth", createHonoProvider(provider));
app.use("/internal/*", createHonoGuard(guard));
app.get("/internal/me", (c) => {
  const identity: ServiceIdentity = c.get("trustline");
  return c.json({ caller: identity.name ?? identity.clientId });
});

// Without TrustlineEnv on the app, the route's middleware types the variable.
const plain = new Hono();
plain.post("/orders", createHonoGuard(guard), requireScopes("write:orders"), (c) => {
  const clientId: string = c.get("trustline").clientId;
  return c.text(clientId);
});

// @ts-expect-error the identity is not a string
const wrong: string = ({} as { get(key: "trustline"): ServiceIdentity }).get("trustline");
void wrong;
