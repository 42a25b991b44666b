// The storage backends that the shared suite (../suite.mjs) runs on in
// Node.js: memory, a SQLite file path, a better-sqlite3 handle, a pg Pool on
// PostgreSQL, and mysql2 pools on MariaDB. Each backend creates isolated
// databases: a new file, or a new database on the shared test server,
// dropped again when the test ends.
//
// The servers come from scripts/databases.sh, which exports
// TRUSTLINE_TEST_POSTGRES_URL and TRUSTLINE_TEST_MYSQL_URL. Without them the
// server backends are skipped, unless TRUSTLINE_TEST_REQUIRE_DATABASES=1
// (set by scripts/test.sh), which turns the skip into a failure.

import crypto from "node:crypto";
import fs from "node:fs";

import Database from "better-sqlite3";
import mysql from "mysql2";
import mysqlPromise from "mysql2/promise";
import pg from "pg";

import { memoryStorage } from "trustline";
import { mysqlStorage } from "trustline/adapters/mysql";
import { postgresStorage } from "trustline/adapters/postgres";
import { sqliteStorage } from "trustline/adapters/sqlite";

import { tempPath } from "../../node/helpers/setup.mjs";
import { fixtureFile, mysqlFixtureSql, postgresFixtureSql } from "./fixture.mjs";

export const POSTGRES_URL = process.env.TRUSTLINE_TEST_POSTGRES_URL;
export const MYSQL_URL = process.env.TRUSTLINE_TEST_MYSQL_URL;
const REQUIRE_DATABASES = process.env.TRUSTLINE_TEST_REQUIRE_DATABASES === "1";

/**
 * Returns the reason to skip a server backend whose URL is missing, or
 * `undefined` when it can run. Throws instead when the databases are
 * required, so that a misconfigured run cannot pass by skipping them.
 */
export function missingServer(url, variable) {
  if (url) return undefined;
  const reason = `${variable} is not set: run eval "$(bash scripts/databases.sh)" first`;
  if (REQUIRE_DATABASES) throw new Error(reason);
  return reason;
}

/** Returns a database name that no other test uses. */
function uniqueName(prefix) {
  return `${prefix}_${crypto.randomBytes(6).toString("hex")}`;
}

/**
 * Memory storage: every `storage()` call returns the same object, as two
 * provider instances in one process would share it. It has no tables.
 */
export const memoryBackend = {
  name: "memory",
  sql: false,
  async createDatabase() {
    const storage = memoryStorage();
    return { storage: () => storage, async close() {} };
  },
};

/** Inspection of a SQLite file through better-sqlite3, independent of the storage under test. */
function sqliteInspector(file) {
  const run = (sql, params = []) => {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params);
    } finally {
      db.close();
    }
  };
  return {
    rows: (sql, params) => run(sql, params),
    async tableNames() {
      return run("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((row) => row.name);
    },
    async columns(table) {
      return run("SELECT name FROM pragma_table_info(?) ORDER BY name", [table]).map((row) => row.name);
    },
    async count(table) {
      return run(`SELECT count(*) AS n FROM "${table}"`)[0].n;
    },
    async select(table) {
      return run(`SELECT * FROM "${table}"`);
    },
  };
}

/** Copies the reference SQLite database to a new temporary file. */
function copySqliteFixture() {
  const file = tempPath("reference.sqlite");
  fs.copyFileSync(fixtureFile("sqlite"), file);
  return file;
}

/** SQLite through a file path: the addon's own embedded SQLite. */
export const sqlitePathBackend = {
  name: "sqlite path",
  sql: true,
  dialect: "sqlite",
  fixture: "sqlite",
  async createDatabase({ fixture = false } = {}) {
    const file = fixture ? copySqliteFixture() : tempPath();
    return {
      file,
      storage: (options) => sqliteStorage(file, options),
      ...sqliteInspector(file),
      async close() {},
    };
  },
};

/** SQLite through better-sqlite3 handles, one per `storage()` call, as separate processes would open. */
export const betterSqlite3Backend = {
  name: "better-sqlite3",
  sql: true,
  dialect: "sqlite",
  fixture: "sqlite",
  closable: true,
  async createDatabase({ fixture = false } = {}) {
    const file = fixture ? copySqliteFixture() : tempPath();
    const handles = [];
    return {
      file,
      storage(options) {
        const db = new Database(file);
        db.pragma("journal_mode = WAL");
        db.pragma("busy_timeout = 5000");
        handles.push(db);
        return sqliteStorage(db, options);
      },
      ...sqliteInspector(file),
      async closeHandles() {
        for (const db of handles) db.close();
      },
      async close() {
        for (const db of handles) if (db.open) db.close();
      },
    };
  },
};

/** PostgreSQL through pg Pools, one per `storage()` call, each on a new database. */
export const postgresBackend = {
  name: "postgres",
  sql: true,
  dialect: "postgres",
  fixture: "postgres",
  closable: true,
  skip: () => missingServer(POSTGRES_URL, "TRUSTLINE_TEST_POSTGRES_URL"),
  async createDatabase({ fixture = false } = {}) {
    const name = uniqueName("tl_test");
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }

    const url = new URL(POSTGRES_URL);
    url.pathname = `/${name}`;
    const connectionString = url.toString();

    if (fixture) {
      // A dedicated connection: the dump empties search_path for its session.
      const loader = new pg.Client({ connectionString });
      await loader.connect();
      try {
        await loader.query(postgresFixtureSql());
      } finally {
        await loader.end();
      }
    }

    const inspector = new pg.Pool({ connectionString, max: 2 });
    inspector.on("error", () => {});
    const pools = [];
    const rows = async (sql, params = []) => (await inspector.query(sql, params)).rows;

    return {
      name,
      connectionString,
      storage(options) {
        const pool = new pg.Pool({ connectionString, max: 4 });
        pools.push(pool);
        return postgresStorage(pool, options);
      },
      rows,
      async tableNames() {
        const result = await rows(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
        );
        return result.map((row) => row.table_name);
      },
      async columns(table) {
        const result = await rows(
          "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name",
          [table],
        );
        return result.map((row) => row.column_name);
      },
      async count(table) {
        return Number((await rows(`SELECT count(*) AS n FROM "${table}"`))[0].n);
      },
      async select(table) {
        return rows(`SELECT * FROM "${table}"`);
      },
      async closeHandles() {
        await Promise.all(pools.splice(0).map((pool) => pool.end()));
      },
      async close() {
        await Promise.all(pools.map((pool) => pool.end().catch(() => {})));
        await inspector.end();
        const dropper = new pg.Client({ connectionString: POSTGRES_URL });
        await dropper.connect();
        try {
          await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await dropper.end();
        }
      },
    };
  },
};

/**
 * MariaDB through mysql2 pools, one per `storage()` call, each on a new
 * database. `poolKind` is "callback" (`mysql2.createPool`) or "promise"
 * (`mysql2/promise`'s `createPool`).
 */
export function mysqlBackend(poolKind) {
  return {
    name: `mariadb (${poolKind} pool)`,
    sql: true,
    dialect: "mysql",
    fixture: "mysql",
    closable: true,
    skip: () => missingServer(MYSQL_URL, "TRUSTLINE_TEST_MYSQL_URL"),
    async createDatabase({ fixture = false } = {}) {
      const name = uniqueName("tl_test");
      const admin = await mysqlPromise.createConnection(MYSQL_URL);
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }

      const url = new URL(MYSQL_URL);
      url.pathname = `/${name}`;
      const uri = url.toString();

      if (fixture) {
        const loader = await mysqlPromise.createConnection({ uri, multipleStatements: true });
        try {
          await loader.query(mysqlFixtureSql());
        } finally {
          await loader.end();
        }
      }

      const inspector = mysqlPromise.createPool({ uri, connectionLimit: 2 });
      const pools = [];
      const rows = async (sql, params = []) => (await inspector.query(sql, params))[0];

      return {
        name,
        uri,
        storage(options) {
          const pool =
            poolKind === "callback"
              ? mysql.createPool({ uri, connectionLimit: 4 })
              : mysqlPromise.createPool({ uri, connectionLimit: 4 });
          pools.push(pool);
          return mysqlStorage(pool, options);
        },
        rows,
        async tableNames() {
          const result = await rows(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name",
          );
          return result.map((row) => row.name);
        },
        async columns(table) {
          const result = await rows(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY column_name",
            [table],
          );
          return result.map((row) => row.name);
        },
        async count(table) {
          return Number((await rows(`SELECT count(*) AS n FROM \`${table}\``))[0].n);
        },
        async select(table) {
          return rows(`SELECT * FROM \`${table}\``);
        },
        async closeHandles() {
          await Promise.all(pools.splice(0).map((pool) => endMysqlPool(pool)));
        },
        async close() {
          await Promise.all(pools.map((pool) => endMysqlPool(pool).catch(() => {})));
          await inspector.end();
          const dropper = await mysqlPromise.createConnection(MYSQL_URL);
          try {
            await dropper.query(`DROP DATABASE IF EXISTS ${name}`);
          } finally {
            await dropper.end();
          }
        },
      };
    },
  };
}

/** Ends a mysql2 pool of either kind. */
function endMysqlPool(pool) {
  if (typeof pool.promise === "function") {
    return new Promise((resolve, reject) => pool.end((error) => (error ? reject(error) : resolve())));
  }
  return pool.end();
}
