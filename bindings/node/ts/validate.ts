/**
 * Checks of user-supplied options and arguments. Each throws a `TypeError`
 * (or a `RangeError` for a number out of range) that names the value.
 */

import { describe } from "./convert.js";

/** Throws unless `value` is a plain object (not `null`, not an array). */
export function requireObject(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Like `requireObject`, but `undefined` is allowed and returned as such. */
export function optionalObject(value: unknown, name: string): Record<string, unknown> | undefined {
  return value === undefined ? undefined : requireObject(value, name);
}

/** Throws unless `value` is a non-empty string. */
export function requireString(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** Like `requireString`, but `undefined` is allowed. */
export function optionalString(value: unknown, name: string): string | undefined {
  return value === undefined ? undefined : requireString(value, name);
}

/**
 * Like `requireString`, for secrets: the message never contains the value,
 * only its type.
 */
export function requireSecret(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) {
    const got = typeof value === "string" ? "an empty string" : typeof value;
    throw new TypeError(`${name} must be a non-empty string, got ${got}`);
  }
  return value;
}

/** Throws unless `value` is an array of non-empty strings; returns a copy. */
export function requireStringArray(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`${name} must be an array of strings, got ${describe(value)}`);
  }
  return value.map((item, index) => requireString(item, `${name}[${index}]`));
}

/** Like `requireStringArray`, but `undefined` is allowed. */
export function optionalStringArray(value: unknown, name: string): string[] | undefined {
  return value === undefined ? undefined : requireStringArray(value, name);
}

/** Throws unless `value` is a boolean. */
export function requireBoolean(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/**
 * Returns `undefined` or an integer of at least `min`; `unit` goes into the
 * message, for example "seconds".
 */
export function optionalInteger(value: unknown, name: string, min: number, unit: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer number of ${unit}, got ${describe(value)}`);
  }
  if (value < min) {
    throw new RangeError(`${name} must be at least ${min} ${unit}, got ${value}`);
  }
  return value;
}

/** Returns `undefined` or a finite number of at least `min`. */
export function optionalNumber(value: unknown, name: string, min: number, unit: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a number of ${unit}, got ${describe(value)}`);
  }
  if (value < min) {
    throw new RangeError(`${name} must be at least ${min} ${unit}, got ${value}`);
  }
  return value;
}

/** Returns `undefined` or a function. */
export function optionalFunction<T extends (...args: never[]) => unknown>(value: unknown, name: string): T | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== "function") {
    throw new TypeError(`${name} must be a function, got ${describe(value)}`);
  }
  return value as T;
}

/** Throws unless `value` is an absolute URL; returns it unchanged. */
export function requireUrl(value: unknown, name: string): string {
  const url = requireString(value, name);
  try {
    new URL(url);
  } catch {
    throw new TypeError(`${name} must be an absolute URL, got ${describe(url)}`);
  }
  return url;
}

/** Throws unless `value` is one of `allowed`. */
export function optionalOneOf<T extends string>(
  value: unknown,
  name: string,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(`${name} must be one of ${allowed.join(", ")}, got ${describe(value)}`);
  }
  return value as T;
}
