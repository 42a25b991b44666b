/**
 * Entry point `trustline/frameworks/fastify`: a plugin and hooks for
 * Fastify 5. Fastify itself is not imported at run time, only its types.
 *
 * ```ts
 * await app.register(createFastifyProvider(provider), { prefix: "/auth" });
 * app.get("/orders", { preHandler: createFastifyGuard(guard) }, handler);
 * app.post("/orders", { preHandler: [trustline, requireScopes("write:orders")] }, handler);
 * ```
 */

import type { Readable } from "node:stream";

import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from "fastify";

import { AuthError } from "../errors.js";
import type { Provider, ServiceIdentity } from "../types.js";
import { valuesHandlerOf, valuesRequestFromNode, webRequestFromNode } from "./node-http.js";
import { absoluteUrl, authenticate, authErrorReply, scopeCheck, type TokenVerifier } from "./shared.js";

export type { AuthErrorBody } from "./shared.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The verified caller, set by `createFastifyGuard`. */
    trustline?: ServiceIdentity;
  }
}

/**
 * Methods routed to the provider. It responds with 405 and an `Allow` header
 * to a method that an endpoint does not take. Fastify adds HEAD for the GET routes.
 */
const PROVIDER_METHODS = ["DELETE", "GET", "PATCH", "POST", "PUT"];

/**
 * Creates a plugin that serves the provider's token and JWKS endpoints:
 * `POST /token` and `GET /.well-known/jwks.json` under the prefix it is
 * registered with, which must be the path of the provider's issuer.
 *
 * The plugin reads request bodies itself, whatever the content type and
 * whether or not `@fastify/formbody` is registered, and passes them to the
 * provider unparsed, so the provider applies its own content type check and
 * size limit. Errors that Fastify raises while reading a body (a malformed
 * `Content-Type` header, for example) get OAuth error responses
 * `{ error: "invalid_request", error_description }`.
 */
export function createFastifyProvider(provider: Pick<Provider, "handle">): FastifyPluginAsync {
  const handle = provider.handle;
  const handleValues = valuesHandlerOf(provider);

  return async function trustlineProvider(fastify: FastifyInstance): Promise<void> {
    // These calls change only this plugin's encapsulated context, not the app's.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    fastify.setErrorHandler(respondToBodyError);

    const route = async (request: FastifyRequest, reply: FastifyReply) => {
      const url = absoluteUrl(request.protocol, request.headers.host, request.raw.url ?? request.url);
      const body = (request.body as Readable | undefined) ?? null;
      if (handleValues) {
        const response = await handleValues(await valuesRequestFromNode(request.raw, url, body));
        reply.code(response.status).headers(Object.fromEntries(response.headers));
        return reply.send(response.body);
      }

      const response = await handle(webRequestFromNode(request.raw, reply.raw, url, body));

      // The body goes as a stream, not the Response itself, which Fastify
      // 5.12's automatic HEAD routes cannot send.
      reply.code(response.status).headers(Object.fromEntries(response.headers));
      return reply.send(response.body ?? undefined);
    };

    fastify.route({ method: PROVIDER_METHODS, url: "/token", handler: route });
    fastify.route({ method: PROVIDER_METHODS, url: "/.well-known/jwks.json", handler: route });
  };
}

/**
 * Answers Fastify's body-reading errors (`FST_ERR_CTP_*`, 4xx) as OAuth
 * errors. Any other error is rethrown to the app's error handler.
 */
async function respondToBodyError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 500;
  if (!error.code?.startsWith("FST_ERR_CTP_") || status < 400 || status > 499) {
    throw error;
  }
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .send({ error: "invalid_request", error_description: error.message });
}

/**
 * Creates a `preHandler` hook that verifies the bearer token and sets
 * `request.trustline` to the caller's `ServiceIdentity`. It responds to a
 * missing token with 401 and to a failed check with the `AuthError`'s
 * status, both with JSON `{ error, message }`. Any other error is thrown to Fastify's error
 * handler.
 *
 * Add it per route (`{ preHandler: hook }`) or with `addHook("preHandler",
 * hook)` inside a plugin that holds the protected routes: added at the root,
 * it would also guard the provider's token endpoint.
 */
export function createFastifyGuard(guard: TokenVerifier): preHandlerAsyncHookHandler {
  return async function trustlineGuard(request: FastifyRequest, reply: FastifyReply) {
    try {
      request.trustline = await authenticate(guard, request.headers.authorization);
    } catch (error) {
      return sendAuthError(reply, error);
    }
  };
}

/**
 * Creates a `preHandler` hook that requires more scopes on one route than the
 * guard requires everywhere, with the same guard:
 * `{ preHandler: [guardHook, requireScopes("write:orders")] }`, or
 * `{ preHandler: requireScopes("write:orders") }` where the guard is already
 * a hook of the plugin. It responds with 403 `invalid_scope` to a token that
 * lacks one of the scopes. If no guard ran before it, the error goes to Fastify's
 * error handler, because that is a mistake in the app's setup.
 */
export function requireScopes(...scopes: (string | readonly string[])[]): preHandlerAsyncHookHandler {
  const check = scopeCheck("requireScopes", scopes);

  return async function trustlineRequireScopes(request: FastifyRequest, reply: FastifyReply) {
    try {
      check(request.trustline);
    } catch (error) {
      return sendAuthError(reply, error);
    }
  };
}

function sendAuthError(reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof AuthError)) {
    throw error;
  }

  const { status, headers, body } = authErrorReply(error);
  return reply.code(status).headers(headers).send(body);
}
