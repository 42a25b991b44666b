// Type-checked by tests/frameworks/types.test.mjs: the fetch entry point
// passes the identity and the server's extra arguments to the handler.

import { createGuard, createProvider, memoryStorage, type ServiceIdentity } from "trustline";
import { bearerToken, createFetchGuard } from "trustline/frameworks/fetch";

const provider = createProvider({ issuer: "https://auth.internal", storage: memoryStorage() });
const guard = createGuard({ issuer: "https://auth.internal" });
const protect = createFetchGuard(guard);

// `provider.handle` is a fetch handler on its own.
const serveProvider: (request: Request) => Promise<Response> = provider.handle;
void serveProvider;

const handler = protect(
  (request: Request, identity: ServiceIdentity, server: { port: number }) =>
    Response.json({ caller: identity.clientId, port: server.port, url: request.url }),
  { scopes: ["read:orders"] },
);
const response: Promise<Response> = handler(new Request("http://svc.internal/"), { port: 4000 });
void response;

const token: string = bearerToken("Bearer abc");
void token;
