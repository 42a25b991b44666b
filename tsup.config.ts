import { defineConfig } from "tsup";

// One build per module format from the hand-written sources in
// bindings/node/ts. Code splitting in both formats puts each shared module
// (AuthError in particular) in one chunk, so an AuthError thrown through one
// entry point is `instanceof` the class exported by another of the same format.
export default defineConfig({
  entry: {
    index: "bindings/node/ts/index.ts",
    client: "bindings/node/ts/client.ts",
    "adapters/sqlite": "bindings/node/ts/adapters/sqlite.ts",
    "adapters/postgres": "bindings/node/ts/adapters/postgres.ts",
    "adapters/mysql": "bindings/node/ts/adapters/mysql.ts",
    "frameworks/express": "bindings/node/ts/frameworks/express.ts",
    "frameworks/fastify": "bindings/node/ts/frameworks/fastify.ts",
    "frameworks/hono": "bindings/node/ts/frameworks/hono.ts",
    "frameworks/fetch": "bindings/node/ts/frameworks/fetch.ts",
  },
  format: ["esm", "cjs"],
  outDir: "dist",
  platform: "node",
  target: "node20",
  splitting: true,
  // Defines `import.meta.url` in the CommonJS build. The native loader reads it
  // only where `__filename` is missing, but esbuild warns about it otherwise.
  shims: true,
  dts: true,
  sourcemap: true,
  clean: true,
  tsconfig: "tsconfig.json",
});
