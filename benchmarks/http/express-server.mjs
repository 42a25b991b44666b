// An Express 5 app serving a provider on 127.0.0.1, for express.sh. Usage:
//   node benchmarks/http/express-server.mjs "plain values" | "Web handle" LUA_FILE
// It writes a wrk script for a token request to LUA_FILE and prints the origin.

import fs from "node:fs";

import express from "express";
import { createProvider, memoryStorage } from "trustline";
import { createExpressProvider } from "trustline/frameworks/express";

const [entryPoint, luaFile] = process.argv.slice(2);
const app = express();
const server = await new Promise((resolve) => {
  const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
});
const origin = `http://127.0.0.1:${server.address().port}`;

const provider = createProvider({ issuer: origin, storage: memoryStorage() });
// An object with only `handle` makes the adapter build Web Request and Response objects.
app.use(createExpressProvider(entryPoint === "Web handle" ? { handle: provider.handle } : provider));

const client = await provider.clients.create({ name: "load", scopes: ["read"] });
const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64");
fs.writeFileSync(
  luaFile,
  [
    'wrk.method = "POST"',
    'wrk.body = "grant_type=client_credentials"',
    'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
    `wrk.headers["Authorization"] = "Basic ${basic}"`,
    "",
  ].join("\n"),
);
console.log(origin);
