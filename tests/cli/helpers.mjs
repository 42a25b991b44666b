// Runs the trustline-cli binary from Node tests: admin commands, and `serve` on a
// free port on 127.0.0.1 with its JSON log lines collected.
//
// TRUSTLINE_CLI_BIN names the binary; by default the release build, else the debug
// build, under CARGO_TARGET_DIR (default ~/.cache/trustline/target).

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const tempRoot = fs.mkdtempSync(path.join(os.tmpdir(), "trustline-cli-tests-"));
process.on("exit", () => fs.rmSync(tempRoot, { recursive: true, force: true }));
let tempCounter = 0;

/** Returns a fresh path under this test process's temporary directory. */
export function tempPath(name = "trustline.sqlite") {
  tempCounter += 1;
  const dir = path.join(tempRoot, String(tempCounter));
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

function findBinary() {
  if (process.env.TRUSTLINE_CLI_BIN) return process.env.TRUSTLINE_CLI_BIN;
  const targetDir =
    process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), ".cache", "trustline", "target");
  for (const profile of ["release", "debug"]) {
    const candidate = path.join(targetDir, profile, "trustline-cli");
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(
    `trustline-cli not found under ${targetDir}: run 'cargo build -p trustline-cli --release' or set TRUSTLINE_CLI_BIN`,
  );
}

export const CLI_BIN = findBinary();

/** Returns the environment for the binary: this process's, without TRUSTLINE_CLI_* variables. */
function cliEnv(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("TRUSTLINE_CLI_")) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs an admin command to completion and returns { status, stdout, stderr }. */
export function runCli(args, { env } = {}) {
  const result = spawnSync(CLI_BIN, args, { encoding: "utf8", env: cliEnv(env), timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs an admin command that must succeed and returns its standard output. */
export function cli(args, options) {
  const result = runCli(args, options);
  if (result.status !== 0) {
    throw new Error(`trustline-cli ${args.join(" ")} exited with ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

/** Reads the `export NAME='value'` lines of `client create` and `rotate-secret`. */
export function parseExports(stdout) {
  const values = {};
  for (const line of stdout.trim().split("\n")) {
    const match = /^export ([A-Z_]+)='([^']*)'$/.exec(line);
    if (!match) throw new Error(`not an export line: ${line}`);
    values[match[1]] = match[2];
  }
  return values;
}

/**
 * Starts `trustline-cli serve` on a free port and resolves once it logs
 * "listening". Returns { baseUrl, process, logs, stop }: `logs` collects the
 * parsed JSON log lines, and `stop(signal)` resolves with the exit code.
 */
export async function startServe(args, { env, t } = {}) {
  const child = spawn(
    CLI_BIN,
    [...args, "serve", "--host", "127.0.0.1", "--port", "0", "--log-format", "json"],
    { env: cliEnv(env), stdio: ["ignore", "pipe", "pipe"] },
  );
  const logs = [];
  const rawLines = [];
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    stdout += chunk;
  });

  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    let buffer = "";
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        rawLines.push(line);
        try {
          const entry = JSON.parse(line);
          logs.push(entry);
          if (entry.message === "listening") resolve(entry.address);
        } catch {
          // Not a log line; kept in rawLines for the failure message.
        }
      }
    });
    exited.then(({ code }) => reject(new Error(`serve exited with ${code} before listening: ${rawLines.join("\n")}`)));
  });
  const timeout = setTimeout(() => child.kill("SIGKILL"), 120_000);
  timeout.unref();

  const address = await listening;
  let stopped = false;
  const stop = async (signal = "SIGTERM") => {
    if (!stopped) {
      stopped = true;
      child.kill(signal);
    }
    const { code } = await exited;
    clearTimeout(timeout);
    return code;
  };
  t?.after(() => stop("SIGTERM"));
  return {
    baseUrl: `http://${address}`,
    address,
    process: child,
    logs,
    rawLines,
    stdout: () => stdout,
    exited,
    stop,
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
