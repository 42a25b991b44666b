// Runs every Node benchmark scenario for a number of rounds and writes the raw
// results as JSON. Usage:
//   node --expose-gc benchmarks/node/run.mjs [--smoke] [--rounds N] [--out FILE]
// --smoke runs each scenario briefly, only to check that the suite still works.

import fs from "node:fs";
import os from "node:os";

import * as scenarios from "./scenarios.mjs";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : fallback;
};
const rounds = Number(option("--rounds", smoke ? 1 : 3));
const out = option("--out", "benchmark-results.json");

const settings = smoke
  ? { seconds: 0.2, tokenCount: 200, forgedCount: 200, clientCounts: [10, 1000], revokedCount: 1000, verificationCount: 2000 }
  : { seconds: 2, tokenCount: 20000, forgedCount: 10000, clientCounts: [10, 10000, 1000000], revokedCount: 100000, verificationCount: 100000 };

const plan = [
  ["issuance", scenarios.issuance],
  ["verification", scenarios.verification],
  ["rejection", scenarios.rejection],
  ["scaling", scenarios.scaling],
  ["scaling-postgres", scenarios.scalingPostgres],
  ["memory", scenarios.memory],
];
const only = option("--only", null);

const results = [];
for (let round = 1; round <= rounds; round++) {
  for (const [name, scenario] of plan) {
    if (only && !only.split(",").includes(name)) continue;
    const started = performance.now();
    const rows = await scenario(settings);
    for (const row of rows) {
      results.push({ round, ...row });
      const ratio = row.reference ? ` (${(row.value / row.reference).toFixed(2)}× ${row.referenceName})` : "";
      console.log(`[round ${round}] ${row.scenario} | ${row.case}: ${row.value.toFixed(1)} ${row.unit}${ratio}`);
    }
    console.log(`[round ${round}] ${name} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

const machine = {
  date: new Date().toISOString(),
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}`,
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  smoke,
  rounds,
};
fs.writeFileSync(out, JSON.stringify({ machine, results }, null, 2));
console.log(`wrote ${results.length} results to ${out}`);
