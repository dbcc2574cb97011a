/**
 * Test files an upgrade leaves written for jest: 0.3.0 moved a project's tests to node:test (`npm test`
 * = `tsc --noEmit && node --import tsx --test ...`), and a team's own jest test then fails the
 * type-check, so that no test runs. Upgrade names them with the change that fixes each.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { FileMap } from "./render";

/** Uses jest's globals (describe/it/test/expect called, never imported from node:test). */
export function usesJestGlobals(text: string): boolean {
  return /\b(?:describe|it|test|expect)(?:\.each)?\s*\(/.test(text) && !/from\s+["']node:test["']/.test(text);
}

/** The project's __tests__/**\/*.test.ts files written for jest, as they are after `writes`. */
export function jestStyleTests(dir: string, writes: FileMap): string[] {
  const found: string[] = [];
  const walk = (rel: string): void => {
    const full = join(dir, rel);
    if (!existsSync(full)) return;
    for (const entry of readdirSync(full, { withFileTypes: true })) {
      const path = posix.join(rel, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.test\.ts$/.test(entry.name)) {
        const text = writes.get(path)?.contents.toString() ?? readFileSync(join(dir, path), "utf8");
        if (usesJestGlobals(text)) found.push(path);
      }
    }
  };
  walk("__tests__");
  return found.sort();
}

/** The note upgrade prints about them (empty when there are none). */
export function jestNote(paths: readonly string[]): string {
  if (paths.length === 0) return "";
  return (
    `\n${paths.length} test file${paths.length === 1 ? "" : "s"} still written for jest, which npm test no longer runs (0.3.0 moved the tests to node:test):\n` +
    paths.map((p) => `  ${p}\n`).join("") +
    '  In each: import { describe, it } from "node:test"; import assert from "node:assert/strict"; and assert.equal/deepEqual/ok\n' +
    "  instead of expect. Until then the type-check fails and no test runs (README: Upgrade a project).\n"
  );
}
