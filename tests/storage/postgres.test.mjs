// The shared storage suite on pg Pools and a real PostgreSQL server (see
// scripts/databases.sh).

import { afterEach, describe, test } from "node:test";

import { postgresBackend } from "./helpers/backends.mjs";
import { defineStorageSuite } from "./suite.mjs";

const skip = postgresBackend.skip();
if (skip) {
  test("postgres storage suite", { skip }, () => {});
} else {
  defineStorageSuite({ describe, test, afterEach }, postgresBackend);
}
