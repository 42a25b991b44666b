// The shared storage suite (tests/storage/suite.mjs) on bun:sqlite Database
// handles, under Bun's own test runner.

import { Database } from "bun:sqlite";
import { afterEach, describe, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { sqliteStorage } from "trustline/adapters/sqlite";

import { fixtureFile } from "../storage/helpers/fixture.mjs";
import { defineStorageSuite } from "../storage/suite.mjs";

const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "trustline-bun-sqlite-"));
process.on("exit", () => fs.rmSync(tempDir, { recursive: true, force: true }));
let fileCounter = 0;

function newFile(): string {
  fileCounter += 1;
  return path.join(tempDir, `${fileCounter}.sqlite`);
}

/** Runs one read-only query on `file` through a separate connection. */
function rows(file: string, sql: string, params: string[] = []): Record<string, unknown>[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.query(sql).all(...params) as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/** bun:sqlite handles, one per storage() call, as separate processes would open them. */
const bunSqliteBackend = {
  name: "bun:sqlite",
  sql: true,
  dialect: "sqlite",
  fixture: "sqlite",
  closable: true,
  async createDatabase({ fixture = false } = {}) {
    const file = newFile();
    if (fixture) fs.copyFileSync(fixtureFile("sqlite"), file);
    const handles: Database[] = [];
    let closed = false;

    return {
      file,
      storage(options?: Parameters<typeof sqliteStorage>[1]) {
        const db = new Database(file, { create: true });
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA busy_timeout = 5000");
        handles.push(db);
        return sqliteStorage(db, options);
      },
      async tableNames() {
        return rows(file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((row) => row.name);
      },
      async columns(table: string) {
        return rows(file, "SELECT name FROM pragma_table_info(?) ORDER BY name", [table]).map((row) => row.name);
      },
      async count(table: string) {
        return Number(rows(file, `SELECT count(*) AS n FROM "${table}"`)[0]!.n);
      },
      async select(table: string) {
        return rows(file, `SELECT * FROM "${table}"`);
      },
      async closeHandles() {
        closed = true;
        for (const db of handles) db.close();
      },
      async close() {
        if (!closed) for (const db of handles) db.close();
      },
    };
  },
};

defineStorageSuite({ describe, test, afterEach }, bunSqliteBackend);
