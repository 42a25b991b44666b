// Type-checked by tests/frameworks/types.test.mjs: the Express entry point
// types `request.trustline`, through `TrustlineRequest` and on every request.

import express from "express";
import { createGuard, createProvider, memoryStorage, type ServiceIdentity } from "trustline";
import {
  createExpressGuard,
  createExpressProvider,
  requireScopes,
  type TrustlineRequest,
} from "trustline/frameworks/express";

const app = express();
const provider = createProvider({ issuer: "https://auth.internal", storage: memoryStorage() });
const guard = createGuard({ issuer: "https://auth.internal", audience: "inventory-service" });

app.use(createExpressProvider(provider));
app.use("/auth", createExpressProvider(provider));
app.use(createExpressGuard(guard));

app.get("/internal", (request: TrustlineRequest, response) => {
  const identity: ServiceIdentity | undefined = request.trustline;
  response.json({ caller: identity?.name ?? identity?.clientId });
});

app.post("/orders", requireScopes("write:orders", ["read:orders"]), (request, response) => {
  const clientId: string | undefined = request.trustline?.clientId;
  response.json({ clientId });
});

// @ts-expect-error scopes are strings
requireScopes(42);

// @ts-expect-error the identity is not a string
const wrong: string = ({} as TrustlineRequest).trustline;
void wrong;
