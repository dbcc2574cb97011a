/**
 * The key-by-key merge of JSON files (generators/json-merge.ts) never loses what the team wrote: a file
 * that re-serialising would change (a repeated key such as npm's "//" comments, a number past 2^53) is
 * left to the line merge, which keeps every byte.
 */
import { lossless, mergeJson } from "../generators/json-merge";

describe("lossless", () => {
  it.each([
    ['{"a": 1, "b": [1, 2, {"c": "x"}], "d": {"a": 2}}', true],
    ['{"s": "a\\"b}{,", "t": -1.5, "u": 1e-7}', true],
    ['{"//": "first note", "//": "second note"}', false],
    ['{"a": {"x": 1, "x": 2}}', false],
    ['{"n": 12345678901234567890}', false],
    ['{"n": 1.0}', false],
  ])("%s: %s", (text, expected) => {
    expect(lossless(text)).toBe(expected);
  });
});

describe("mergeJson", () => {
  it("merges key by key when nothing would be lost", () => {
    const base = '{\n  "a": 1\n}\n';
    const merged = mergeJson(base, '{\n  "a": 1,\n  "team": true\n}\n', '{\n  "a": 2\n}\n');
    expect(merged && JSON.parse(merged)).toEqual({ a: 2, team: true });
  });

  it("leaves a file with repeated keys or long numbers to the line merge (undefined)", () => {
    const dup = '{\n  "//": "keep me",\n  "//": "and me",\n  "a": 1\n}\n';
    expect(mergeJson(dup, dup.replace('"a": 1', '"a": 1,\n  "team": true'), dup.replace('"a": 1', '"a": 2'))).toBeUndefined();
    const big = '{\n  "id": 12345678901234567890,\n  "a": 1\n}\n';
    expect(mergeJson(big, big, big.replace('"a": 1', '"a": 2'))).toBeUndefined();
  });
});
