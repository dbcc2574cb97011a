/** Upgrade names the test files still written for jest (0.3.0 moved a project's tests to node:test). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jestNote, jestStyleTests, usesJestGlobals } from "../generators/jest-tests";
import { tempDir } from "./support/terraform";

describe("jest-style tests after an upgrade", () => {
  it.each([
    ['describe("x", () => { it("y", () => expect(1).toBe(1)); });', true],
    ["test.each([[1]])('%s', (n) => expect(n).toBe(1));", true],
    ['import { describe, it } from "node:test";\ndescribe("x", () => it("y", () => {}));', false],
    ["export const notATest = 1;", false],
    // Issue 23, point 6: a generated node:test file into which the team's expect(...) was merged.
    [
      'import { describe, it } from "node:test";\nimport assert from "node:assert/strict";\ndescribe("x", () => it("y", () => {\n  assert.ok(true);\n  expect(1).toBe(1);\n}));',
      true,
    ],
    ['import { describe, it } from "node:test";\nimport { expect } from "expect";\nit("y", () => expect(1).toBe(1));', false],
    ['import { test } from "node:test";\ntest("y", () => { /^a/.test("a"); });', false],
    ['import * as t from "node:test";\nt.test("y", () => {}); // expect(1) in a comment', false],
    ['import { describe } from "node:test";\ndescribe("x", () => { beforeEach(() => {}); });', true],
  ])("%j uses jest's globals: %s", (text, expected) => {
    expect(usesJestGlobals(text)).toBe(expected);
  });

  it("finds them under __tests__ as the upgrade leaves them (its writes first, else the disk), and says what to change", () => {
    const dir = tempDir("cia-jest-tests");
    mkdirSync(join(dir, "__tests__", "team"), { recursive: true });
    writeFileSync(join(dir, "__tests__", "stacks.test.ts"), 'describe("old", () => {});');
    writeFileSync(join(dir, "__tests__", "team", "bucket.test.ts"), 'it("has a bucket", () => expect(true).toBe(true));');
    writeFileSync(join(dir, "__tests__", "helpers.ts"), 'export const describe = "not a test file";');
    const writes = new Map([
      ["__tests__/stacks.test.ts", { contents: 'import { describe } from "node:test";\ndescribe("new", () => {});' }],
    ]);
    const found = jestStyleTests(dir, writes);
    expect(found).toEqual(["__tests__/team/bucket.test.ts"]);
    const note = jestNote(found);
    expect(note).toContain("1 test file still written for jest");
    expect(note).toContain("  __tests__/team/bucket.test.ts\n");
    expect(note).toContain('import { describe, it } from "node:test"');
    expect(jestNote([])).toBe("");
  });
});
