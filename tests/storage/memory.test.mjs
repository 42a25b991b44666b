// The shared storage suite on memory.

import { afterEach, describe, test } from "node:test";

import { memoryBackend } from "./helpers/backends.mjs";
import { defineStorageSuite } from "./suite.mjs";

defineStorageSuite({ describe, test, afterEach }, memoryBackend);
