/**
 * Entry point `trustline/adapters/sqlite`: storage in a SQLite database, in
 * the same tables as trustline 0.1, from a file path or from a
 * `better-sqlite3` or `bun:sqlite` Database that the application opened.
 */

import { describe } from "../convert.js";
import { toAuthError } from "../errors.js";
import { nativeClass } from "../native.js";
import { sqlStorage, sqlTableOptions, type SqlDriver, type SqlParam } from "../sql-storage.js";
import { wrapNativeStorage } from "../storage.js";
import type { SqlStorageOptions, StorageAdapter } from "../types.js";
import { optionalObject, requireString } from "../validate.js";

export type { SqlStorageOptions, StorageAdapter } from "../types.js";

/** The parts of a `better-sqlite3` (v12) Database that the adapter uses. */
export interface BetterSqlite3Database {
  prepare(sql: string): BetterSqlite3Statement;
  pragma(source: string, options?: unknown): unknown;
}

/** The parts of a `better-sqlite3` Statement that the adapter uses. */
export interface BetterSqlite3Statement {
  readonly reader: boolean;
  raw(toggle?: boolean): BetterSqlite3Statement;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number | bigint };
}

/** The parts of a `bun:sqlite` Database that the adapter uses. */
export interface BunSqliteDatabase {
  query(sql: string): BunSqliteStatement;
  prepare(sql: string): unknown;
}

/** The parts of a `bun:sqlite` Statement that the adapter uses. */
export interface BunSqliteStatement {
  values(...params: unknown[]): unknown[][];
  run(...params: unknown[]): { changes: number };
}

/**
 * Opens storage in a SQLite database and creates the trustline tables if
 * they are missing.
 *
 * - A file path: the database is opened (or created) by the addon, in WAL
 *   mode with a 5-second busy timeout, and closed when the returned storage
 *   is garbage-collected.
 * - A `better-sqlite3` (v12) or `bun:sqlite` Database: statements run through
 *   that handle, so its settings (journal mode, busy timeout) apply. The
 *   handle stays the application's to close.
 */
export function sqliteStorage(
  pathOrDatabase: string | BetterSqlite3Database | BunSqliteDatabase,
  options?: SqlStorageOptions,
): StorageAdapter {
  if (typeof pathOrDatabase === "string") {
    return fileStorage(pathOrDatabase, options);
  }

  const driver = handleDriver(pathOrDatabase);
  if (!driver) {
    throw new TypeError(
      "sqliteStorage() takes a database file path, a better-sqlite3 Database or a bun:sqlite Database, " +
        `got ${describe(pathOrDatabase)}`,
    );
  }
  return sqlStorage("sqlite", driver, options, "sqliteStorage");
}

function fileStorage(path: string, options: SqlStorageOptions | undefined): StorageAdapter {
  requireString(path, "sqliteStorage path");
  const nativeOptions = sqlTableOptions(optionalObject(options, "sqliteStorage options"));

  const NativeStorage = nativeClass("NativeStorage");
  try {
    return wrapNativeStorage(NativeStorage.sqlite(path, nativeOptions));
  } catch (error) {
    throw toAuthError(error);
  }
}

/** Returns the driver for a `better-sqlite3` or `bun:sqlite` Database, or `undefined` for anything else. */
function handleDriver(database: unknown): SqlDriver | undefined {
  if (database === null || typeof database !== "object") {
    return undefined;
  }
  const candidate = database as Record<string, unknown>;
  if (typeof candidate.prepare !== "function") {
    return undefined;
  }
  // better-sqlite3 has pragma() and no query(); bun:sqlite has query() and no pragma().
  if (typeof candidate.pragma === "function") {
    return betterSqlite3Driver(database as BetterSqlite3Database);
  }
  if (typeof candidate.query === "function") {
    return bunSqliteDriver(database as BunSqliteDatabase);
  }
  return undefined;
}

/**
 * Neither driver binds booleans (better-sqlite3 rejects them), so they are
 * bound as 1 and 0, which is how SQLite stores them anyway.
 */
function bindable(params: SqlParam[]): unknown[] {
  return params.map((param) => (typeof param === "boolean" ? Number(param) : param));
}

/** The most prepared statements kept per better-sqlite3 Database. */
const STATEMENT_CACHE_SIZE = 100;

function betterSqlite3Driver(database: BetterSqlite3Database): SqlDriver {
  // The core sends a small, fixed set of statements, so preparing each once
  // saves a parse per call. The cache is cleared when it grows past the limit.
  const statements = new Map<string, BetterSqlite3Statement>();
  const prepare = (sql: string): BetterSqlite3Statement => {
    let statement = statements.get(sql);
    if (!statement) {
      if (statements.size >= STATEMENT_CACHE_SIZE) {
        statements.clear();
      }
      statement = database.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  return {
    async execute(sql, params) {
      return Number(prepare(sql).run(...bindable(params)).changes);
    },
    async query(sql, params) {
      return prepare(sql).raw(true).all(...bindable(params)) as unknown[][];
    },
  };
}

function bunSqliteDriver(database: BunSqliteDatabase): SqlDriver {
  // Database.query() caches the compiled statement per SQL string itself.
  return {
    async execute(sql, params) {
      return Number(database.query(sql).run(...bindable(params)).changes);
    },
    async query(sql, params) {
      return database.query(sql).values(...bindable(params)) ?? [];
    },
  };
}
