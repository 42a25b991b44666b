/**
 * Entry point `trustline/adapters/mysql`: storage in MySQL or MariaDB through
 * a `mysql2` pool that the application created, in the same tables as
 * trustline 0.1. Several provider instances and guards can share one
 * database.
 */

import { describe } from "../convert.js";
import { sqlStorage, type SqlHandleOptions } from "../sql-storage.js";
import type { StorageAdapter } from "../types.js";

export type { SqlStorageOptions, StorageAdapter } from "../types.js";
export type { SqlHandleOptions } from "../sql-storage.js";

interface MysqlQueryOptions {
  sql: string;
  values: unknown[];
  rowsAsArray: true;
}

/** The parts of a `mysql2/promise` pool that the adapter uses. */
export interface MysqlPromisePool {
  query(options: MysqlQueryOptions): Promise<[unknown, unknown]>;
}

/** The parts of a `mysql2` callback pool that the adapter uses: its promise wrapper. */
export interface MysqlCallbackPool {
  promise(): MysqlPromisePool;
}

/**
 * Creates storage over a `mysql2` pool: a callback pool
 * (`mysql2.createPool()`) or a promise pool (`mysql2/promise`'s
 * `createPool()`, or `pool.promise()`). The tables are created, if missing,
 * on first use. The pool stays the application's to end.
 */
export function mysqlStorage(pool: MysqlCallbackPool | MysqlPromisePool, options?: SqlHandleOptions): StorageAdapter {
  const promisePool = promiseApiOf(pool);

  const run = async (sql: string, values: unknown[]): Promise<unknown> => {
    const pending: unknown = promisePool.query({ sql, values, rowsAsArray: true });
    if (!isThenable(pending)) {
      throw new TypeError(
        "mysqlStorage() needs a mysql2 pool: the pool's query() did not return a promise",
      );
    }
    const [result] = (await pending) as [unknown, unknown];
    return result;
  };

  return sqlStorage(
    "mysql",
    {
      async execute(sql, values) {
        const result = (await run(sql, values)) as { affectedRows?: number };
        return result.affectedRows ?? 0;
      },
      async query(sql, values) {
        const rows = await run(sql, values);
        if (!Array.isArray(rows)) {
          throw new TypeError("the mysql2 pool returned no rows for a SELECT statement");
        }
        return rows as unknown[][];
      },
    },
    options,
    "mysqlStorage",
  );
}

/**
 * Returns the promise API of a `mysql2` pool. Callback pools have
 * `promise()`, which wraps the same connections; promise pools are used as
 * they are.
 */
function promiseApiOf(pool: unknown): MysqlPromisePool {
  if (pool === null || typeof pool !== "object") {
    throw new TypeError(`mysqlStorage() takes a mysql2 pool, got ${describe(pool)}`);
  }
  const candidate = pool as Partial<MysqlCallbackPool & MysqlPromisePool>;
  if (typeof candidate.promise === "function") {
    return candidate.promise();
  }
  if (typeof candidate.query === "function") {
    return candidate as MysqlPromisePool;
  }
  throw new TypeError(`mysqlStorage() takes a mysql2 pool, got ${describe(pool)}`);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}
