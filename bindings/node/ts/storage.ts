/**
 * The two kinds of storage a provider or guard can get:
 * - storage backed by the native addon (`memoryStorage()`, `sqliteStorage()`),
 *   which the addon reads directly, without calling back into JavaScript;
 * - any other object implementing `StorageAdapter`, which the addon calls
 *   through `storageDispatch`.
 */

import {
  CLIENT_TIMESTAMP_FIELDS,
  REVOKED_TOKEN_TIMESTAMP_FIELDS,
  SIGNING_KEY_TIMESTAMP_FIELDS,
  describe,
  recordFromWire,
  recordToWire,
  requireEpochMillis,
  toEpochMillis,
} from "./convert.js";
import { callNative } from "./errors.js";
import type {
  NativeStorage,
  StorageDispatch,
  WireRevokedToken,
  WireServiceClient,
  WireSigningKey,
} from "./native-types.js";
import type { RevokedToken, ServiceClient, SigningKey, StorageAdapter } from "./types.js";
import { requireBoolean, requireString } from "./validate.js";

/**
 * Key of the `NativeStorage` on storage objects made by this package. A
 * registered symbol, so that the ESM and the CommonJS build of the package
 * recognise each other's storage objects.
 */
const NATIVE_STORAGE = Symbol.for("trustline.nativeStorage");

const STORAGE_METHODS = [
  "findClient",
  "createClient",
  "deleteClient",
  "listClients",
  "updateClient",
  "touchClient",
  "setClientActive",
  "setTokensInvalidBefore",
  "getSigningKeys",
  "addSigningKey",
  "setSigningKeyNotAfter",
  "findRevokedToken",
  "revokeToken",
] as const satisfies readonly (keyof StorageAdapter)[];

type StorageMethod = (typeof STORAGE_METHODS)[number];

// ---------------------------------------------------------------------------
// Storage backed by the native addon
// ---------------------------------------------------------------------------

/**
 * Wraps a `NativeStorage` as a `StorageAdapter` with `Date` values. The
 * provider and guard use the `NativeStorage` itself, so replacing a method on
 * the returned object does not change what they see.
 */
export function wrapNativeStorage(native: NativeStorage): StorageAdapter {
  const storage: StorageAdapter = {
    findClient: async (clientId) => {
      const found = await callNative(() => native.findClient(requireString(clientId, "clientId")));
      return found === null ? null : serviceClientFromWire(found);
    },
    createClient: (client) =>
      callNative(() => native.createClient(recordToWire<WireServiceClient>(client, CLIENT_TIMESTAMP_FIELDS, "client"))),
    deleteClient: (clientId) => callNative(() => native.deleteClient(requireString(clientId, "clientId"))),
    listClients: async () => {
      const clients = await callNative(() => native.listClients());
      return clients.map(serviceClientFromWire);
    },
    updateClient: (clientId, updates) =>
      callNative(() =>
        native.updateClient(
          requireString(clientId, "clientId"),
          recordToWire<Partial<WireServiceClient>>(updates, CLIENT_TIMESTAMP_FIELDS, "updates"),
        ),
      ),
    touchClient: (clientId, lastSeenAt) =>
      callNative(() =>
        native.touchClient(requireString(clientId, "clientId"), requireEpochMillis(lastSeenAt, "lastSeenAt")),
      ),
    setClientActive: (clientId, active) =>
      callNative(() => native.setClientActive(requireString(clientId, "clientId"), requireBoolean(active, "active"))),
    setTokensInvalidBefore: (clientId, at) =>
      callNative(() =>
        native.setTokensInvalidBefore(requireString(clientId, "clientId"), toEpochMillis(at, "at") ?? null),
      ),
    getSigningKeys: async () => {
      const keys = await callNative(() => native.getSigningKeys());
      return keys.map(signingKeyFromWire);
    },
    addSigningKey: (key) =>
      callNative(() =>
        native.addSigningKey(
          recordToWire<WireSigningKey>(key, SIGNING_KEY_TIMESTAMP_FIELDS, "key"),
        ),
      ),
    setSigningKeyNotAfter: (keyId, notAfter) =>
      callNative(() =>
        native.setSigningKeyNotAfter(requireString(keyId, "keyId"), toEpochMillis(notAfter, "notAfter") ?? null),
      ),
    findRevokedToken: async (jti) => {
      const found = await callNative(() => native.findRevokedToken(requireString(jti, "jti")));
      return found === null ? null : revokedTokenFromWire(found);
    },
    revokeToken: (token) =>
      callNative(() =>
        native.revokeToken(
          recordToWire<WireRevokedToken>(token, REVOKED_TOKEN_TIMESTAMP_FIELDS, "token"),
        ),
      ),
  };

  Object.defineProperty(storage, NATIVE_STORAGE, { value: native, enumerable: false });
  return storage;
}

/** Returns the `NativeStorage` behind a storage object made by `wrapNativeStorage`, if it is one. */
function nativeStorageOf(storage: object): NativeStorage | undefined {
  return (storage as { [NATIVE_STORAGE]?: NativeStorage })[NATIVE_STORAGE];
}

function serviceClientFromWire(client: WireServiceClient): ServiceClient {
  return recordFromWire<ServiceClient>(client, CLIENT_TIMESTAMP_FIELDS);
}

function signingKeyFromWire(key: WireSigningKey): SigningKey {
  return recordFromWire<SigningKey>(key, SIGNING_KEY_TIMESTAMP_FIELDS);
}

function revokedTokenFromWire(token: WireRevokedToken): RevokedToken {
  return recordFromWire<RevokedToken>(token, REVOKED_TOKEN_TIMESTAMP_FIELDS);
}

// ---------------------------------------------------------------------------
// User storage adapters, called through storageDispatch
// ---------------------------------------------------------------------------

interface MethodConversion {
  /** Converts wire arguments (epoch milliseconds) into the adapter's (`Date`). */
  args(wireArgs: unknown[]): unknown[];
  /** Converts the adapter's result into its wire form. */
  result(value: unknown): unknown;
}

const unchanged = (args: unknown[]): unknown[] => args;
const noResult = (): null => null;

/** Converts the timestamp at `index` of the wire arguments to a `Date`. */
function dateArgAt(index: number) {
  return (args: unknown[]): unknown[] => {
    const converted = [...args];
    converted[index] = dateFromWire(args[index]);
    return converted;
  };
}

function recordArgAt(index: number, fields: readonly string[]) {
  return (args: unknown[]): unknown[] => {
    const converted = [...args];
    const record = args[index];
    if (record !== null && typeof record === "object") {
      converted[index] = recordFromWire(record, fields);
    }
    return converted;
  };
}

function recordOrNull(fields: readonly string[], name: string) {
  return (value: unknown): unknown =>
    value === null || value === undefined ? null : recordToWire(value, fields, name);
}

function recordList(fields: readonly string[], name: string) {
  return (value: unknown): unknown => {
    if (!Array.isArray(value)) {
      throw new TypeError(`storage adapter ${name} must return an array, got ${describe(value)}`);
    }
    return value.map((item, index) => recordToWire(item, fields, `${name}[${index}]`));
  };
}

function dateFromWire(value: unknown): unknown {
  return typeof value === "number" ? new Date(value) : value;
}

const METHOD_CONVERSIONS: Record<StorageMethod, MethodConversion> = {
  findClient: { args: unchanged, result: recordOrNull(CLIENT_TIMESTAMP_FIELDS, "findClient()") },
  createClient: { args: recordArgAt(0, CLIENT_TIMESTAMP_FIELDS), result: noResult },
  deleteClient: { args: unchanged, result: noResult },
  listClients: { args: unchanged, result: recordList(CLIENT_TIMESTAMP_FIELDS, "listClients()") },
  updateClient: { args: recordArgAt(1, CLIENT_TIMESTAMP_FIELDS), result: noResult },
  touchClient: { args: dateArgAt(1), result: noResult },
  setClientActive: { args: unchanged, result: noResult },
  setTokensInvalidBefore: { args: dateArgAt(1), result: noResult },
  getSigningKeys: { args: unchanged, result: recordList(SIGNING_KEY_TIMESTAMP_FIELDS, "getSigningKeys()") },
  addSigningKey: { args: recordArgAt(0, SIGNING_KEY_TIMESTAMP_FIELDS), result: noResult },
  setSigningKeyNotAfter: { args: dateArgAt(1), result: noResult },
  findRevokedToken: {
    args: unchanged,
    result: recordOrNull(REVOKED_TOKEN_TIMESTAMP_FIELDS, "findRevokedToken()"),
  },
  revokeToken: { args: recordArgAt(0, REVOKED_TOKEN_TIMESTAMP_FIELDS), result: noResult },
};

/**
 * Builds the `storageDispatch` callback for a user adapter: parses the wire
 * arguments, calls `adapter[method]` with `Date` values and returns the result
 * as wire JSON. Being `async`, it reports every failure as a rejection.
 */
export function storageDispatchFor(adapter: StorageAdapter): StorageDispatch {
  return async (method, argsJson) => {
    // describe() keeps the message short: a wrong call could pass records
    // with secret hashes here, and they must not end up in an error message.
    if (typeof method !== "string" || !Object.hasOwn(METHOD_CONVERSIONS, method)) {
      throw new Error(`unknown storage method ${describe(method)}`);
    }
    const conversion = METHOD_CONVERSIONS[method as StorageMethod];

    const wireArgs: unknown = JSON.parse(argsJson);
    if (!Array.isArray(wireArgs)) {
      throw new TypeError(`arguments of storage method ${method} must be a JSON array`);
    }

    const implementation = adapter[method as StorageMethod] as (...args: unknown[]) => unknown;
    const result = await implementation.apply(adapter, conversion.args(wireArgs));

    return JSON.stringify(conversion.result(result) ?? null);
  };
}

/**
 * Storage as the native constructors take it: a `NativeStorage` (their second
 * argument) or a `storageDispatch` option, never both.
 */
export interface StorageBinding {
  storage?: NativeStorage;
  storageDispatch?: StorageDispatch;
}

/**
 * Checks `storage` and returns what the native constructors take: the
 * `NativeStorage` of our own storage objects, or a `storageDispatch` for any
 * other adapter. `name` names the option in errors.
 */
export function storageBinding(storage: unknown, name: string): StorageBinding {
  if (storage === null || typeof storage !== "object") {
    throw new TypeError(
      `${name} must be a storage adapter such as memoryStorage(), got ${describe(storage)}`,
    );
  }

  const native = nativeStorageOf(storage);
  if (native) {
    return { storage: native };
  }

  const missing = STORAGE_METHODS.filter(
    (method) => typeof (storage as Record<string, unknown>)[method] !== "function",
  );
  if (missing.length > 0) {
    throw new TypeError(`${name} is not a StorageAdapter: it lacks the methods ${missing.join(", ")}`);
  }
  return { storageDispatch: storageDispatchFor(storage as StorageAdapter) };
}
