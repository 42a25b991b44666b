// Reads a SQLite file independently of the code under test, through Bun's
// built-in bun:sqlite (Bun is a dev dependency of this repository), so that a
// test can compare schemas and check the stored column formats.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const BUN = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));

const READER = `
import { Database } from "bun:sqlite";
const db = new Database(process.env.TRUSTLINE_TEST_SQLITE_PATH);
const rows = db.query(process.env.TRUSTLINE_TEST_SQLITE_QUERY).all();
db.close();
process.stdout.write(JSON.stringify(rows));
`;

/** Runs one read-only SQL statement on the file at `path` and returns its rows. */
export function querySqlite(path, sql) {
  const output = execFileSync(BUN, ["-e", READER], {
    encoding: "utf8",
    env: { ...process.env, TRUSTLINE_TEST_SQLITE_PATH: path, TRUSTLINE_TEST_SQLITE_QUERY: sql },
  });
  return JSON.parse(output);
}

/** Reads the schema: every table, index and trigger with its SQL, sorted by type and name. */
export function readSchema(path) {
  return querySqlite(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name");
}
