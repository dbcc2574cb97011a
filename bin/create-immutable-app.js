#!/usr/bin/env node

// The only place that calls process.exit. The generator runs from dist/ (built by `npm run prepare`).
// @inquirer/prompts is ESM-only: it is loaded here, with a real import(), and only when a prompt is due.

const { run } = require("../dist/generators/cli.js");
const { inquirerPrompter } = require("../dist/generators/prompter.js");

// Test hook: CREATE_IMMUTABLE_APP_CRASH_AT=<step> kills the process (SIGKILL) at that write step,
// CREATE_IMMUTABLE_APP_PAUSE_AT=<step> announces the step on stderr and blocks for
// CREATE_IMMUTABLE_APP_PAUSE_MS (default 60000) so that a test can signal it there.
const crashAt = process.env.CREATE_IMMUTABLE_APP_CRASH_AT;
const pauseAt = process.env.CREATE_IMMUTABLE_APP_PAUSE_AT;
const onStep =
  crashAt || pauseAt
    ? (step) => {
        if (step === crashAt) process.kill(process.pid, "SIGKILL");
        if (step === pauseAt) {
          process.stderr.write(`paused at ${step}\n`);
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.CREATE_IMMUTABLE_APP_PAUSE_MS || 60000));
        }
      }
    : undefined;

function deferSignals(onSignal) {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}

run(process.argv.slice(2), {
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  stdinIsTTY: Boolean(process.stdin.isTTY),
  env: process.env,
  loadPrompter: async () => inquirerPrompter(await import("@inquirer/prompts")),
  onStep,
  deferSignals,
}).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`create-immutable-app: internal error: ${error?.stack ? error.stack : error}\n`);
    process.exit(70);
  },
);
