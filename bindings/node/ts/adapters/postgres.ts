/**
 * Entry point `trustline/adapters/postgres`: storage in PostgreSQL through a
 * `pg` Pool that the application created, in the same tables as trustline
 * 0.1. Several provider instances and guards can share one database.
 */

import { describe } from "../convert.js";
import { sqlStorage, type SqlHandleOptions } from "../sql-storage.js";
import type { StorageAdapter } from "../types.js";

export type { SqlStorageOptions, StorageAdapter } from "../types.js";
export type { SqlHandleOptions } from "../sql-storage.js";

/** The parts of a `pg` Pool (or Client) that the adapter uses. */
export interface PostgresPool {
  query(config: { text: string; values: unknown[]; rowMode: "array" }): Promise<{
    rows: unknown[][];
    rowCount: number | null;
  }>;
  on?(event: "error", listener: (error: Error) => void): unknown;
  listenerCount?(event: "error"): number;
}

/**
 * Creates storage over a `pg` Pool. The tables are created, if missing, on
 * first use. The pool stays the application's to end.
 *
 * When the pool has no `error` listener, one that ignores the error is
 * added: `pg` emits `error` when the server closes an idle pooled connection
 * (a restart, a failover), and an unhandled `error` event would end the
 * process. The pool drops that connection either way, and queries meanwhile
 * fail as `storage_unavailable`.
 */
export function postgresStorage(pool: PostgresPool, options?: SqlHandleOptions): StorageAdapter {
  if (pool === null || typeof pool !== "object" || typeof pool.query !== "function") {
    throw new TypeError(`postgresStorage() takes a pg Pool, got ${describe(pool)}`);
  }

  if (typeof pool.on === "function" && typeof pool.listenerCount === "function" && pool.listenerCount("error") === 0) {
    pool.on("error", ignoreIdleConnectionError);
  }

  return sqlStorage(
    "postgres",
    {
      async execute(text, values) {
        try {
          const result = await pool.query({ text, values, rowMode: "array" });
          return result.rowCount ?? 0;
        } catch (error) {
          if (!isCreateTableRace(text, error)) throw error;
          // The other session has committed the table by now, so this is a no-op.
          const result = await pool.query({ text, values, rowMode: "array" });
          return result.rowCount ?? 0;
        }
      },
      async query(text, values) {
        const result = await pool.query({ text, values, rowMode: "array" });
        return result.rows;
      },
    },
    options,
    "postgresStorage",
  );
}

function ignoreIdleConnectionError(): void {}

/**
 * Tells whether `error` is PostgreSQL's known race between two sessions that
 * run `CREATE TABLE IF NOT EXISTS` for the same new table at once: the loser
 * fails with unique_violation (23505) on the catalog or duplicate_table
 * (42P07) instead of skipping. It happens when provider instances start
 * together on an empty database.
 */
function isCreateTableRace(sql: string, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === "23505" || code === "42P07") && /^\s*CREATE TABLE IF NOT EXISTS\b/i.test(sql);
}
