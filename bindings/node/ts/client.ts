/**
 * Entry point `trustline/client`: fetches and caches access tokens for
 * outgoing requests.
 */

import { describe } from "./convert.js";
import { callNative, toAuthError } from "./errors.js";
import { fetchDispatchFor } from "./http.js";
import { nativeClass } from "./native.js";
import type { CacheDispatch, NativeClient, NativeClientOptions } from "./native-types.js";
import type { CachedClientToken, ClientOptions, ClientTokenCache, FetchInput, TrustlineClient } from "./types.js";
import {
  optionalFunction,
  optionalNumber,
  optionalString,
  requireObject,
  requireSecret,
  requireString,
  requireUrl,
} from "./validate.js";

export type { CachedClientToken, ClientOptions, ClientTokenCache, FetchInput, TrustlineClient } from "./types.js";
export { AuthError } from "./errors.js";

/**
 * Creates a client for the provider's token endpoint. Throws a `TypeError`
 * for invalid options; no request is made until the first `getToken()`.
 */
export function createClient(options: ClientOptions): TrustlineClient {
  requireObject(options, "createClient options");

  const customFetch = optionalFunction<typeof globalThis.fetch>(options.fetch, "options.fetch");
  const resolveFetch = (): typeof globalThis.fetch => customFetch ?? globalThis.fetch;
  const cache = options.cache === undefined ? undefined : requireCache(options.cache);

  const nativeOptions: NativeClientOptions = {
    tokenUrl: requireUrl(options.tokenUrl, "options.tokenUrl"),
    clientId: requireString(options.clientId, "options.clientId"),
    clientSecret: requireSecret(options.clientSecret, "options.clientSecret"),
    audience: optionalString(options.audience, "options.audience"),
    scope: scopeList(options.scope),
    refreshSkewSeconds: optionalNumber(options.refreshSkewSeconds, "options.refreshSkewSeconds", 0, "seconds"),
    fetchDispatch: fetchDispatchFor(resolveFetch),
    cacheDispatch: cache && cacheDispatchFor(cache),
  };

  const NativeClientClass = nativeClass("NativeClient");
  let native: NativeClient;
  try {
    native = new NativeClientClass(nativeOptions);
  } catch (error) {
    throw toAuthError(error);
  }

  const getToken = (): Promise<string> => callNative(() => native.getToken());

  const getHeaders = async (): Promise<{ Authorization: string }> => ({
    Authorization: `Bearer ${await getToken()}`,
  });

  const fetch = async (input: FetchInput, init?: RequestInit): Promise<Response> => {
    const token = await getToken();

    // `init.headers` replaces a Request's own headers in fetch(), so start
    // from whichever of the two fetch() would use, then add the token.
    const headers = new Headers(init?.headers ?? (isRequest(input) ? input.headers : undefined));
    headers.set("Authorization", `Bearer ${token}`);

    return resolveFetch()(input, { ...init, headers });
  };

  return { getToken, getHeaders, fetch };
}

/**
 * Normalizes `scope` to a list: a string is split on whitespace. An empty
 * result means "all of the client's scopes" and is sent as no scope at all.
 */
function scopeList(scope: unknown): string[] | undefined {
  if (scope === undefined) {
    return undefined;
  }

  let list: unknown[];
  if (typeof scope === "string") {
    list = scope.split(/\s+/).filter((item) => item !== "");
  } else if (Array.isArray(scope)) {
    list = scope;
  } else {
    throw new TypeError(`options.scope must be a string or an array of strings, got ${describe(scope)}`);
  }

  const scopes = list.map((item, index) => {
    const value = requireString(item, `options.scope[${index}]`);
    if (/\s/.test(value)) {
      throw new TypeError(`options.scope[${index}] must be one scope without spaces, got ${describe(value)}`);
    }
    return value;
  });
  return scopes.length === 0 ? undefined : scopes;
}

function requireCache(cache: unknown): ClientTokenCache {
  const checked = requireObject(cache, "options.cache");
  const missing = ["get", "set", "delete"].filter((method) => typeof checked[method] !== "function");
  if (missing.length > 0) {
    throw new TypeError(`options.cache is not a ClientTokenCache: it lacks the methods ${missing.join(", ")}`);
  }
  return checked as unknown as ClientTokenCache;
}

/**
 * Builds the `cacheDispatch` callback over a user cache. A `refreshAt` read as
 * a `Date` or an ISO-8601 string is converted to epoch milliseconds. Other
 * entries go to the addon unchanged, and it deletes those it cannot use.
 */
function cacheDispatchFor(cache: ClientTokenCache): CacheDispatch {
  return async (op, key, valueJson) => {
    switch (op) {
      case "get":
        return cacheEntryToJson(await cache.get(key));
      case "set":
        await cache.set(key, JSON.parse(valueJson) as CachedClientToken);
        return "null";
      case "delete":
        await cache.delete(key);
        return "null";
      default:
        throw new Error(`unknown token cache operation ${describe(op)}`);
    }
  };
}

function cacheEntryToJson(entry: unknown): string {
  if (entry === null || entry === undefined) {
    return "null";
  }

  let wire = entry;
  if (typeof entry === "object" && !Array.isArray(entry)) {
    const refreshAt = (entry as { refreshAt?: unknown }).refreshAt;
    if (refreshAt instanceof Date) {
      wire = { ...entry, refreshAt: refreshAt.getTime() };
    } else if (typeof refreshAt === "string" && Number.isFinite(Date.parse(refreshAt))) {
      wire = { ...entry, refreshAt: Date.parse(refreshAt) };
    }
  }

  try {
    return JSON.stringify(wire) ?? "{}";
  } catch {
    // Not serializable (a cycle, a BigInt): pass an entry the addon rejects
    // as malformed, so that it deletes it and fetches a new token.
    return "{}";
  }
}

function isRequest(input: FetchInput): input is Request {
  return typeof input === "object" && input !== null && !(input instanceof URL) && "headers" in input;
}
