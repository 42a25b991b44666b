import { describe } from "./convert.js";
import { callNative, toAuthError } from "./errors.js";
import { eventCallbackFor } from "./events.js";
import { fetchDispatchFor } from "./http.js";
import { nativeClass } from "./native.js";
import type { NativeGuard, NativeGuardOptions, NativeStorage } from "./native-types.js";
import { storageBinding } from "./storage.js";
import type { Guard, GuardEvent, GuardOptions, ServiceIdentity } from "./types.js";
import {
  optionalFunction,
  optionalNumber,
  optionalObject,
  optionalString,
  optionalStringArray,
  requireObject,
  requireString,
  requireStringArray,
  requireUrl,
} from "./validate.js";

/** How many identities a guard keeps; equal to the addon's verified-token cache. */
const IDENTITY_CACHE_CAPACITY = 4096;

/** How many of a token's last characters key the identity cache. */
const IDENTITY_KEY_LENGTH = 32;

/** A space before the identity JSON: the addon had verified the token before. */
const VERIFIED_BEFORE_MARK = 0x20;

interface CachedIdentity {
  token: string;
  identity: ServiceIdentity;
  /** Names of the claims whose values are arrays, such as `aud`. */
  arrayClaims: string[];
}

function cachedIdentity(token: string, identity: ServiceIdentity): CachedIdentity {
  const arrayClaims = Object.keys(identity.raw).filter((name) => Array.isArray(identity.raw[name]));
  return { token, identity, arrayClaims };
}

/**
 * Returns a copy of a cached identity for one caller, so that a change one caller
 * makes never reaches another, and every caller may change its own, as with a
 * freshly parsed identity. Array claims such as `aud` are copied too.
 * NOTE: a claim whose value is an object stays shared between callers.
 */
function copyIdentity({ identity, arrayClaims }: CachedIdentity): ServiceIdentity {
  const raw = { ...identity.raw };
  for (const name of arrayClaims) {
    raw[name] = [...(raw[name] as unknown[])];
  }
  return { ...identity, scopes: [...identity.scopes], raw };
}

/**
 * Creates a verifier of access tokens. The JWKS is fetched with
 * `globalThis.fetch` on first use. Throws a `TypeError` for an option of the
 * wrong type, and an `AuthError` with code `invalid_argument` for a value the
 * core rejects.
 */
export function createGuard(options: GuardOptions): Guard {
  const [nativeOptions, nativeStorage] = nativeGuardOptions(options);
  const NativeGuardClass = nativeClass("NativeGuard");
  let native: NativeGuard;
  try {
    native = new NativeGuardClass(nativeOptions, nativeStorage);
  } catch (error) {
    throw toAuthError(error);
  }

  // Identities of tokens that the addon returned from its own cache of verified
  // tokens (which takes a token on its second verification), oldest first and
  // bounded like that cache, so that a repeated verification costs one call into
  // the addon. Most tokens are verified once per process, and for them keeping the
  // object would cost more than parsing it did. The map is keyed by the token's
  // last characters, which are signature bytes: V8 hashes a key once per string,
  // and a token of 700 characters or more takes about a microsecond. Each entry
  // contains the whole token to compare.
  const identities = new Map<string, CachedIdentity>();
  const remember = (key: string, token: string, identity: ServiceIdentity): ServiceIdentity => {
    if (identities.size >= IDENTITY_CACHE_CAPACITY) {
      identities.delete(identities.keys().next().value as string);
    }
    const cached = cachedIdentity(token, identity);
    identities.set(key, cached);
    return copyIdentity(cached);
  };

  const verify = (token: string): Promise<ServiceIdentity> => {
    // A missing header often arrives as `undefined`. The addon rejects it
    // with `missing_token` (401), as it does an empty string.
    if (token === undefined || token === null) {
      token = "";
    }
    if (typeof token !== "string") {
      return Promise.reject(new TypeError(`verify() expects the token as a string, got ${describe(token)}`));
    }

    // A token verified before: the addon still checks expiry and storage
    // (revocation, disable, cutoff), and this side keeps the identity object.
    const key = token.slice(-IDENTITY_KEY_LENGTH);
    const cached = identities.get(key);
    const seenBefore = cached !== undefined && cached.token === token;
    if (seenBefore) {
      try {
        if (native.revalidate(token)) {
          return Promise.resolve(copyIdentity(cached));
        }
        identities.delete(key);
      } catch (error) {
        identities.delete(key);
        return Promise.reject(toAuthError(error));
      }
    }

    // With the JWKS cached and no remote storage, the addon verifies on this
    // thread; otherwise it returns null and the async path does the I/O. The addon
    // returns the identity from its own cache when it verified the token before.
    const settle = (json: string): ServiceIdentity => {
      const identity = JSON.parse(json) as ServiceIdentity;
      return json.charCodeAt(0) === VERIFIED_BEFORE_MARK && !seenBefore ? remember(key, token, identity) : identity;
    };
    try {
      const json = native.verifyLocal(token);
      if (json !== null) {
        return Promise.resolve(settle(json));
      }
    } catch (error) {
      return Promise.reject(toAuthError(error));
    }
    return callNative(async () => settle(await native.verify(token)));
  };

  return { verify };
}

/** Checks the options and converts them to the native constructor's two arguments. */
function nativeGuardOptions(options: GuardOptions): [NativeGuardOptions, NativeStorage | null] {
  requireObject(options, "createGuard options");

  const hooks = optionalObject(options.hooks, "options.hooks");
  const onEvent = optionalFunction<(event: GuardEvent) => void | Promise<void>>(
    hooks?.onEvent,
    "options.hooks.onEvent",
  );
  const issuer = requireString(options.issuer, "options.issuer");
  const { storage, storageDispatch } =
    options.storage === undefined ? {} : storageBinding(options.storage, "options.storage");

  const nativeOptions: NativeGuardOptions = {
    issuer,
    jwksUrl: options.jwksUrl === undefined ? undefined : requireUrl(options.jwksUrl, "options.jwksUrl"),
    audience: audienceList(options.audience),
    scopes: optionalStringArray(options.scopes, "options.scopes"),
    env: optionalString(options.env, "options.env"),
    clockTolerance: optionalNumber(options.clockTolerance, "options.clockTolerance", 0, "seconds"),
    storageDispatch,
    onEvent: onEvent && eventCallbackFor(onEvent, "guard hooks.onEvent"),
    fetchDispatch: fetchDispatchFor(() => globalThis.fetch),
  };
  return [nativeOptions, storage ?? null];
}

/**
 * Normalizes `audience` to a list. An empty string or list is rejected rather
 * than read as "no audience check", which would accept tokens for any audience.
 */
function audienceList(audience: unknown): string[] | undefined {
  if (audience === undefined) {
    return undefined;
  }
  if (typeof audience === "string") {
    return [requireString(audience, "options.audience")];
  }

  if (!Array.isArray(audience)) {
    throw new TypeError(`options.audience must be a string or an array of strings, got ${describe(audience)}`);
  }
  const list = requireStringArray(audience, "options.audience");
  if (list.length === 0) {
    throw new TypeError("options.audience must not be an empty array; leave it out to skip the audience check");
  }
  return list;
}
