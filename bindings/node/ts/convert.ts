/**
 * Conversions between the public types (timestamps as `Date`) and the wire
 * types of the native addon (timestamps as epoch milliseconds).
 */

import type { EpochMillis } from "./native-types.js";

const SERVICE_CLIENT_TIMESTAMPS = [
  "createdAt",
  "updatedAt",
  "lastSeenAt",
  "currentSecretCreatedAt",
  "currentSecretLastUsedAt",
  "nextSecretCreatedAt",
  "nextSecretExpiresAt",
  "nextSecretLastUsedAt",
  "secretLastRotatedAt",
  "tokensInvalidBefore",
] as const;

/** Timestamp fields of `ServiceClient` and of `ProviderClient`, which has the same ones. */
export const CLIENT_TIMESTAMP_FIELDS: readonly string[] = SERVICE_CLIENT_TIMESTAMPS;

/** Timestamp fields of `SigningKey`. */
export const SIGNING_KEY_TIMESTAMP_FIELDS: readonly string[] = ["createdAt", "notBefore", "notAfter"];

/** Timestamp fields of `RevokedToken`. */
export const REVOKED_TOKEN_TIMESTAMP_FIELDS: readonly string[] = ["expiresAt"];

/**
 * Converts a timestamp to epoch milliseconds. Accepts a `Date`, epoch
 * milliseconds or an ISO-8601 string (as SQL drivers return them); `null` and
 * `undefined` stay as they are. `name` names the value in the `TypeError`.
 */
export function toEpochMillis(value: unknown, name: string): EpochMillis | null | undefined {
  if (value === null || value === undefined) {
    return value;
  }

  let millis: number;
  if (value instanceof Date) {
    millis = value.getTime();
  } else if (typeof value === "number") {
    millis = value;
  } else if (typeof value === "string") {
    millis = Date.parse(value);
  } else {
    throw new TypeError(`${name} must be a Date, got ${describe(value)}`);
  }

  if (!Number.isFinite(millis)) {
    throw new TypeError(`${name} is not a valid date: ${describe(value)}`);
  }
  return millis;
}

/** Like `toEpochMillis`, for a value that must be present. */
export function requireEpochMillis(value: unknown, name: string): EpochMillis {
  const millis = toEpochMillis(value, name);
  if (millis === null || millis === undefined) {
    throw new TypeError(`${name} must be a Date, got ${describe(value)}`);
  }
  return millis;
}

/** Converts epoch milliseconds from the addon to a `Date`; `null` stays `null`. */
export function fromEpochMillis(value: EpochMillis | null | undefined): Date | null {
  return value === null || value === undefined ? null : new Date(value);
}

/**
 * Copies a record with the given timestamp fields converted to epoch
 * milliseconds. Fields that the record lacks stay absent, so that this also
 * works for a partial update. `name` prefixes field names in errors.
 */
export function recordToWire<T = Record<string, unknown>>(record: unknown, fields: readonly string[], name: string): T {
  if (record === null || typeof record !== "object") {
    throw new TypeError(`${name} must be an object, got ${describe(record)}`);
  }

  const wire: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  for (const field of fields) {
    if (field in wire) {
      wire[field] = toEpochMillis(wire[field], `${name}.${field}`);
    }
  }
  return wire as T;
}

/** Copies a record from the addon with the given timestamp fields converted to `Date`. */
export function recordFromWire<T>(record: object, fields: readonly string[]): T {
  const converted: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  for (const field of fields) {
    if (field in converted) {
      converted[field] = fromEpochMillis(converted[field] as EpochMillis | null);
    }
  }
  return converted as T;
}

/** Describes a value for an error message without dumping large objects. */
export function describe(value: unknown): string {
  if (value === null) {
    return "null";
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "an invalid Date" : value.toISOString();
  }
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    default:
      return Array.isArray(value) ? "an array" : "an object";
  }
}
