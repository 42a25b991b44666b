// The shared storage suite on a SQLite file opened by path.

import { afterEach, describe, test } from "node:test";

import { sqlitePathBackend } from "./helpers/backends.mjs";
import { defineStorageSuite } from "./suite.mjs";

defineStorageSuite({ describe, test, afterEach }, sqlitePathBackend);
