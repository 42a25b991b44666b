// The shared storage suite on better-sqlite3 Database handles.

import { afterEach, describe, test } from "node:test";

import { betterSqlite3Backend } from "./helpers/backends.mjs";
import { defineStorageSuite } from "./suite.mjs";

defineStorageSuite({ describe, test, afterEach }, betterSqlite3Backend);
