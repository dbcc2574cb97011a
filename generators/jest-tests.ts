/**
 * Test files an upgrade leaves written for jest: 0.3.0 moved a project's tests to node:test (`npm test`
 * = `tsc --noEmit && node --import tsx --test ...`), and a team's own jest test then fails the
 * type-check, so that no test runs. Upgrade names them with the change that fixes each.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { FileMap } from "./render";

const JEST_GLOBALS = ["describe", "it", "test", "expect", "beforeAll", "beforeEach", "afterAll", "afterEach", "jest"] as const;

/**
 * Uses one of jest's globals: calls it (`expect(`, `it.each(`, `jest.fn(`) without importing or
 * declaring that name. A generated node:test file into which the team's `expect(...)` was merged
 * imports describe and it from node:test, but not expect: it counts.
 */
export function usesJestGlobals(text: string): boolean {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
  const bound = new Set<string>();
  for (const m of code.matchAll(/import\s*(?:type\s+)?(?:(\w+)\s*,?\s*)?(?:\{([^}]*)\}|\*\s+as\s+(\w+))?\s*from\s*["'][^"']+["']/g)) {
    if (m[1]) bound.add(m[1]);
    if (m[3]) bound.add(m[3]);
    for (const spec of (m[2] ?? "").split(",")) {
      const local = spec
        .trim()
        .split(/\s+as\s+/)
        .pop()
        ?.replace(/^type\s+/, "");
      if (local) bound.add(local);
    }
  }
  for (const m of code.matchAll(/\b(?:const|let|var|function)\s+(\w+)/g)) bound.add(m[1]);
  return JEST_GLOBALS.some((name) => !bound.has(name) && new RegExp(`(?<![\\w.])${name}(?:\\.\\w+)*\\s*\\(`).test(code));
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
