/**
 * Logic that every framework adapter shares: reading the bearer token from an
 * `Authorization` header, the JSON response to a failed check, and the extra
 * scopes that one route can require. Nothing here imports a framework.
 */

import { describe } from "../convert.js";
import { AuthError } from "../errors.js";
import type { Guard, ServiceIdentity } from "../types.js";

/** The part of a guard that the adapters call, so that a test double or a wrapper fits too. */
export type TokenVerifier = Pick<Guard, "verify">;

/** Body of every failed check: `error` is the `AuthError.code`. */
export interface AuthErrorBody {
  error: string;
  message: string;
}

/** Status, headers and JSON body of a guard's response to a failed check. */
export interface AuthErrorReply {
  status: number;
  headers: Record<string, string>;
  body: AuthErrorBody;
}

/**
 * Reads the token from an `Authorization` header value: the scheme `Bearer` in
 * any letter case, one or more spaces or tabs, then the token with surrounding
 * whitespace trimmed. Throws an `AuthError` with code `missing_token` (401)
 * when there is no header, another scheme, or nothing after the scheme.
 * A header that Node.js reports as an array uses its first value.
 */
export function bearerToken(header: string | readonly string[] | null | undefined): string {
  const value = (Array.isArray(header) ? header[0] : header) as string | undefined | null;
  if (value === undefined || value === null || value.trim() === "") {
    throw new AuthError("missing_token", "the Authorization header is missing: send `Authorization: Bearer <token>`", 401);
  }

  const match = /^\s*([^\s]+)(?:\s+([^]*))?$/.exec(value);
  const scheme = match?.[1] ?? "";
  if (scheme.toLowerCase() !== "bearer") {
    // A scheme name is echoed, but not a value that may be a credential sent without one.
    const named = /^[A-Za-z][A-Za-z0-9-]{0,19}$/.test(scheme) ? ` uses the ${JSON.stringify(scheme)} scheme` : " has no Bearer scheme";
    throw new AuthError("missing_token", `the Authorization header${named}: send \`Authorization: Bearer <token>\``, 401);
  }

  const token = (match?.[2] ?? "").trim();
  if (token === "") {
    throw new AuthError("missing_token", "the Authorization header has the Bearer scheme but no token", 401);
  }
  return token;
}

/** Reads the bearer token from `header` and verifies it; rejects with `AuthError` when either fails. */
export async function authenticate(
  guard: TokenVerifier,
  header: string | readonly string[] | null | undefined,
): Promise<ServiceIdentity> {
  return guard.verify(bearerToken(header));
}

/**
 * Builds the response to a failed check: the error's status and
 * `{ error: code, message }`. A 401 carries a `WWW-Authenticate: Bearer`
 * challenge (RFC 6750 §3), with `error="invalid_token"` unless the token was
 * missing; a missing scope carries `error="insufficient_scope"`.
 */
export function authErrorReply(error: AuthError): AuthErrorReply {
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (error.status === 401) {
    headers["www-authenticate"] = error.code === "missing_token" ? "Bearer" : 'Bearer error="invalid_token"';
  } else if (error.code === "invalid_scope") {
    headers["www-authenticate"] = 'Bearer error="insufficient_scope"';
  }

  return { status: error.status, headers, body: { error: error.code, message: error.message } };
}

/** Builds a Web `Response` for a failed check, for the Fetch API and Hono adapters. */
export function authErrorResponse(error: AuthError): Response {
  const { status, headers, body } = authErrorReply(error);
  return Response.json(body, { status, headers });
}

/**
 * Checks the arguments of a `requireScopes(...)` helper and returns the check
 * it runs on each request. Scopes may be given as separate arguments, arrays,
 * or both. The check throws an `AuthError` with code `invalid_scope` (403)
 * when the identity lacks one of them. It throws a plain `Error` when there
 * is no identity, because then the guard did not run first, which is a
 * mistake in the server's setup rather than in the request.
 */
export function scopeCheck(
  helperName: string,
  scopes: readonly (string | readonly string[])[],
): (identity: ServiceIdentity | undefined) => void {
  const required = scopes.flat();
  if (required.length === 0) {
    throw new TypeError(`${helperName}() needs at least one scope`);
  }
  for (const scope of required) {
    if (typeof scope !== "string" || scope.trim() === "" || /\s/.test(scope)) {
      throw new TypeError(`${helperName}() expects scopes as non-empty strings without spaces, got ${describe(scope)}`);
    }
  }

  return (identity) => {
    if (identity === undefined || identity === null) {
      throw new Error(
        `${helperName}() found no verified identity on the request: run the trustline guard before it on this route`,
      );
    }

    const missing = required.filter((scope) => !identity.scopes.includes(scope));
    if (missing.length > 0) {
      throw new AuthError("invalid_scope", `the token lacks the required scope ${JSON.stringify(missing.join(" "))}`, 403);
    }
  };
}

/**
 * Builds an absolute URL from a request's protocol, `Host` header and path.
 * The provider routes on the path alone, so a `Host` header that is missing or
 * is not a plain host and port is replaced with `localhost` rather than let
 * it change the path.
 */
export function absoluteUrl(protocol: string, host: string | undefined, path: string): string {
  const scheme = protocol === "https" ? "https" : "http";
  let origin = `${scheme}://localhost`;
  if (host) {
    try {
      const parsed = new URL(`${scheme}://${host}`);
      if (parsed.host !== "" && parsed.pathname === "/" && parsed.search === "" && parsed.hash === "" && !parsed.username) {
        origin = parsed.origin;
      }
    } catch {
      // Keeps `localhost`: the host does not reach the provider's routing.
    }
  }
  return origin + (path.startsWith("/") ? path : `/${path}`);
}
