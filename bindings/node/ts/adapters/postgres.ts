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
        for (let attempt = 1; ; attempt += 1) {
          try {
            const result = await pool.query({ text, values, rowMode: "array" });
            return result.rowCount ?? 0;
          } catch (error) {
            // The session that won has committed the table, so the next attempt skips it.
            if (attempt >= CREATE_TABLE_ATTEMPTS || !isCreateTableRace(text, error)) throw error;
          }
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

/** How often a `CREATE TABLE IF NOT EXISTS` that lost a race is run in all. */
const CREATE_TABLE_ATTEMPTS = 3;

/** SQLSTATEs of the race: unique_violation, duplicate_table, duplicate_object. */
const CREATE_TABLE_RACE_CODES = new Set(["23505", "42P07", "42710"]);

/**
 * Tells whether `error` is PostgreSQL's known race between two sessions that
 * run `CREATE TABLE IF NOT EXISTS` for the same new table at once: the loser
 * fails on the catalog (for example `type "trustline_clients" already
 * exists`) instead of skipping. It happens when provider instances start
 * together on an empty database.
 */
function isCreateTableRace(sql: string, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && CREATE_TABLE_RACE_CODES.has(code) && /^\s*CREATE TABLE IF NOT EXISTS\b/i.test(sql);
}
