// The shared storage suite on mysql2 pools, callback and promise, and a real
// MariaDB server (see scripts/databases.sh).

import { afterEach, describe, test } from "node:test";

import { mysqlBackend } from "./helpers/backends.mjs";
import { defineStorageSuite } from "./suite.mjs";

for (const poolKind of ["callback", "promise"]) {
  const backend = mysqlBackend(poolKind);
  const skip = backend.skip();
  if (skip) {
    test(`${backend.name} storage suite`, { skip }, () => {});
  } else {
    defineStorageSuite({ describe, test, afterEach }, backend);
  }
}
