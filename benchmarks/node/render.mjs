// Writes the results of run.mjs into docs/benchmarks.md, between the markers
// `<!-- results:start -->` and `<!-- results:end -->`, as tables of medians with
// the spread over rounds. Usage: node benchmarks/node/render.mjs RESULTS.json DOC.md

import fs from "node:fs";

const [resultsFile, docFile] = process.argv.slice(2);
const { machine, results, versions = {} } = JSON.parse(fs.readFileSync(resultsFile, "utf8"));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const format = (value) => {
  if (value >= 100) {
    return Math.round(value).toLocaleString("en-US");
  }
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
};
const spread = (values) => (values.length > 1 ? `${format(Math.min(...values))}–${format(Math.max(...values))}` : "");

// One table per scenario, one row per case; the fetch count in a case name
// differs between rounds, so it is dropped from the name and listed per round.
const caseName = (row) => row.case.replace(/ \(\d[\d,]* tokens, \d+ JWKS fetches\)/, "");
const scenarioOrder = [...new Set(results.map((row) => row.scenario))];
const groups = new Map();
for (const row of [...results].sort((a, b) => scenarioOrder.indexOf(a.scenario) - scenarioOrder.indexOf(b.scenario))) {
  const key = `${row.scenario}\u0000${caseName(row)}`;
  if (!groups.has(key)) groups.set(key, { ...row, case: caseName(row), values: [], ratios: [], fetches: [] });
  const group = groups.get(key);
  group.values.push(row.value);
  if (row.reference) group.ratios.push(row.value / row.reference);
  if (row.jwksFetches !== undefined) group.fetches.push(row.jwksFetches);
}

const lines = [];
lines.push(`Measured on ${machine.date.slice(0, 10)}: ${machine.cpus}, ${machine.memory}, ${machine.platform}, Node.js ${machine.node}` +
  `${Object.entries(versions).map(([name, version]) => `, ${name} ${version}`).join("")}; ${machine.rounds} round(s)` +
  `${machine.smoke ? " in smoke mode (too short to mean anything)" : ""}. Each cell is the median over rounds, with the range after it.`);

let scenario = null;
for (const group of groups.values()) {
  if (group.scenario !== scenario) {
    scenario = group.scenario;
    lines.push("", `### ${scenario}`, "", "| case | value | range | compared with | ratio (range) |", "|---|---|---|---|---|");
  }
  const name = group.case + (group.fetches.length ? ` (JWKS fetches per round: ${group.fetches.join(", ")})` : "");
  const ratio = group.ratios.length ? `${median(group.ratios).toFixed(2)}× (${group.ratios.map((r) => r.toFixed(2)).join(", ")})` : "";
  lines.push(`| ${name} | ${format(median(group.values))} ${group.unit} | ${spread(group.values)} | ${group.referenceName ?? ""} | ${ratio} |`);
}

const doc = fs.readFileSync(docFile, "utf8");
const start = "<!-- results:start -->";
const end = "<!-- results:end -->";
const before = doc.slice(0, doc.indexOf(start) + start.length);
const after = doc.slice(doc.indexOf(end));
if (doc.indexOf(start) < 0 || doc.indexOf(end) < 0) {
  throw new Error(`${docFile} lacks the ${start} and ${end} markers`);
}
fs.writeFileSync(docFile, `${before}\n${lines.join("\n")}\n${after}`);
console.log(`wrote ${groups.size} rows into ${docFile}`);
