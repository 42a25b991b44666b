/**
 * Storage that runs the core's SQL through a database handle of the user's
 * (a `pg` Pool, a `mysql2` pool, a `better-sqlite3` or `bun:sqlite`
 * Database). The core writes every statement for the dialect, so an adapter
 * only runs a statement through its driver and returns the rows.
 */

import { describe } from "./convert.js";
import { toAuthError } from "./errors.js";
import { nativeClass } from "./native.js";
import type { NativeSqlDialect, NativeSqlOptions, SqlDispatch } from "./native-types.js";
import { wrapNativeStorage } from "./storage.js";
import type { SqlStorageOptions, StorageAdapter } from "./types.js";
import { optionalObject, optionalString } from "./validate.js";

/** A parameter as the core binds it. */
export type SqlParam = null | string | number | boolean;

/** A driver's way to run the core's statements. */
export interface SqlDriver {
  /** Runs a statement and resolves to the number of rows it changed. */
  execute(sql: string, params: SqlParam[]): Promise<number>;
  /** Runs a query and resolves to its rows, each an array of column values in select-list order. */
  query(sql: string, params: SqlParam[]): Promise<unknown[][]>;
}

/** `SqlStorageOptions` plus the options that every handle adapter takes. */
export interface SqlHandleOptions extends SqlStorageOptions {
  /**
   * Seconds to wait for one statement, including the wait for a free pooled
   * connection, before the call fails as `storage_unavailable` (a 503 at the
   * token endpoint). Default 5. The statement itself is not cancelled: set
   * the driver's own timeouts (`pg`: `connectionTimeoutMillis`,
   * `statement_timeout`; `mysql2`: `connectTimeout`) to free the connection.
   */
  queryTimeoutSeconds?: number;
}

/** Default of `queryTimeoutSeconds`. */
export const DEFAULT_QUERY_TIMEOUT_SECONDS = 5;

/**
 * Builds storage over `driver`. `adapterName` (for example "postgresStorage")
 * names the function in errors.
 */
export function sqlStorage(
  dialect: NativeSqlDialect,
  driver: SqlDriver,
  options: SqlHandleOptions | undefined,
  adapterName: string,
): StorageAdapter {
  const { nativeOptions, timeoutMs } = readOptions(options, adapterName);
  const dispatch = sqlDispatch(driver, timeoutMs);

  const NativeStorage = nativeClass("NativeStorage");
  try {
    return wrapNativeStorage(NativeStorage.sql(dialect, dispatch, nativeOptions));
  } catch (error) {
    throw toAuthError(error);
  }
}

/**
 * Builds the dispatch that the addon calls. Being `async`, it reports every
 * failure, including a driver that throws synchronously, as a rejection.
 */
function sqlDispatch(driver: SqlDriver, timeoutMs: number): SqlDispatch {
  return async (kind, sql, paramsJson) => {
    const params = JSON.parse(paramsJson) as SqlParam[];
    if (kind === "execute") {
      const changed = await withTimeout(driver.execute(sql, params), timeoutMs);
      return String(changed);
    }
    if (kind === "query") {
      const rows = await withTimeout(driver.query(sql, params), timeoutMs);
      return JSON.stringify(rows.map((row) => row.map(columnValue)));
    }
    throw new Error(`unknown SQL call kind ${describe(kind)}: expected "execute" or "query"`);
  };
}

/**
 * Rejects when `operation` has not settled within `timeoutMs`. The timer is
 * unref'd, so a pending statement alone never keeps the process alive.
 */
async function withTimeout<T>(operation: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`the database query timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Converts a column value into what the core reads: `null`, a string, a
 * number or a boolean. Drivers may return text as a `Buffer` (binary
 * collations), integers as `bigint` (`safeIntegers` modes) or a `Date`.
 */
function columnValue(value: unknown): unknown {
  if (value === undefined) {
    return null;
  }
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("utf8");
  }
  if (value instanceof Date) {
    return value.toISOString();
  }
  return value;
}

/** Checks `SqlHandleOptions` and converts them into the addon's options and a timeout in ms. */
function readOptions(
  options: SqlHandleOptions | undefined,
  adapterName: string,
): { nativeOptions: NativeSqlOptions | undefined; timeoutMs: number } {
  const checked = optionalObject(options, `${adapterName} options`);
  let timeoutMs = DEFAULT_QUERY_TIMEOUT_SECONDS * 1000;
  if (checked?.queryTimeoutSeconds !== undefined) {
    const seconds = checked.queryTimeoutSeconds;
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) {
      throw new TypeError(`options.queryTimeoutSeconds must be a positive number of seconds, got ${describe(seconds)}`);
    }
    timeoutMs = Math.ceil(seconds * 1000);
  }
  return { nativeOptions: sqlTableOptions(checked), timeoutMs };
}

/** Checks `tablePrefix` and `tables` and converts them into the addon's options. */
export function sqlTableOptions(checked: Record<string, unknown> | undefined): NativeSqlOptions | undefined {
  if (!checked) {
    return undefined;
  }

  // An empty prefix is allowed: it gives the tables their bare names.
  if (checked.tablePrefix !== undefined && typeof checked.tablePrefix !== "string") {
    throw new TypeError(`options.tablePrefix must be a string, got ${describe(checked.tablePrefix)}`);
  }

  const tables = optionalObject(checked.tables, "options.tables");
  return {
    tablePrefix: checked.tablePrefix,
    tables: tables && {
      clients: optionalString(tables.clients, "options.tables.clients"),
      signingKeys: optionalString(tables.signingKeys, "options.tables.signingKeys"),
      revokedTokens: optionalString(tables.revokedTokens, "options.tables.revokedTokens"),
    },
  };
}
