/**
 * Entry point `trustline/adapters/sqlite`: storage in a SQLite database file,
 * in the same tables as trustline 0.1.
 */

import { describe } from "../convert.js";
import { toAuthError } from "../errors.js";
import { nativeClass } from "../native.js";
import type { NativeSqlOptions } from "../native-types.js";
import { wrapNativeStorage } from "../storage.js";
import type { SqlStorageOptions, StorageAdapter } from "../types.js";
import { optionalObject, optionalString, requireString } from "../validate.js";

export type { SqlStorageOptions, StorageAdapter } from "../types.js";

/**
 * Opens (or creates) the SQLite database at `path` and creates the trustline
 * tables if they are missing. The connection closes when the returned storage
 * is garbage-collected.
 *
 * NOTE: only a file path is accepted for now; `better-sqlite3` and
 * `bun:sqlite` Database handles are not supported yet.
 */
export function sqliteStorage(path: string, options?: SqlStorageOptions): StorageAdapter {
  if (typeof path !== "string") {
    throw new TypeError(
      `sqliteStorage() takes a database file path as a string, got ${describe(path)}. ` +
        "Database handles (better-sqlite3, bun:sqlite) are not supported yet: pass the path of the file.",
    );
  }
  requireString(path, "sqliteStorage path");
  const nativeOptions = sqlOptions(options);

  const NativeStorage = nativeClass("NativeStorage");
  try {
    return wrapNativeStorage(NativeStorage.sqlite(path, nativeOptions));
  } catch (error) {
    throw toAuthError(error);
  }
}

function sqlOptions(options: SqlStorageOptions | undefined): NativeSqlOptions | undefined {
  const checked = optionalObject(options, "sqliteStorage options");
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
