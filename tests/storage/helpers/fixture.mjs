// The databases written by the TypeScript trustline package 0.1.1 (see
// tests/fixtures/reference-0.1/README.md) and their credentials. Usable from
// Node.js and Bun: it imports no driver.

import fs from "node:fs";
import { fileURLToPath } from "node:url";

const FIXTURE_DIR = new URL("../../fixtures/reference-0.1/", import.meta.url);

/** The credentials of the three fixture databases. */
export const reference = JSON.parse(fs.readFileSync(new URL("credentials.json", FIXTURE_DIR), "utf8"));

/** The path of the fixture file of `backend` ("sqlite", "postgres" or "mysql"). */
export function fixtureFile(backend) {
  return fileURLToPath(new URL(reference.backends[backend].file, FIXTURE_DIR));
}

/**
 * Returns the PostgreSQL dump without its `\restrict` and `\unrestrict` lines, which
 * are psql commands (psql 15.14 and later), not SQL.
 */
export function postgresFixtureSql() {
  return fs
    .readFileSync(fixtureFile("postgres"), "utf8")
    .split("\n")
    .filter((line) => !/^\\(un)?restrict\b/.test(line))
    .join("\n");
}

/**
 * Returns the MariaDB dump without its first line, a MariaDB client command
 * (`/*M!999999\- enable the sandbox mode *\/`) that servers need not run.
 */
export function mysqlFixtureSql() {
  return fs
    .readFileSync(fixtureFile("mysql"), "utf8")
    .split("\n")
    .filter((line) => !line.startsWith("/*M!999999"))
    .join("\n");
}
