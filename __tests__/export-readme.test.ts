/** The ops README shows config values exactly: rendered by a real Markdown parser and read back. */
import fc from "fast-check";
import { marked } from "marked";
import { literalCell } from "../managed/export/readme";

const ENTITIES: Record<string, string> = { "&quot;": "\"", "&amp;": "&", "&lt;": "<", "&gt;": ">", "&#39;": "'" };

/** Renders one table row holding the cell and returns the text of its code span. */
function readBack(cell: string): string {
  const html = marked.parse(`| Parameter | Value |\n| --- | --- |\n| p | ${cell} |\n`, { async: false }) as string;
  const match = /<td><code>([\s\S]*)<\/code><\/td>/.exec(html);
  if (!match) throw new Error(`no code span in ${html}`);
  return match[1].replace(/&(quot|amp|lt|gt|#39);/g, (entity) => ENTITIES[entity]);
}

describe("literalCell", () => {
  it.each([
    ["plain", "warn"],
    ["interpolation-like", "Hello, ${name}: 100% literal"],
    ["pipes and backticks", "a | b `c` ``d``"],
    ["backslashes and quotes", "C:\\path \"quoted\" \\n"],
    ["newlines", "line 1\nline 2\r\n"],
    ["leading backtick", "`x"],
  ])("%s", (_what, value) => {
    expect(JSON.parse(readBack(literalCell(value)))).toBe(value);
  });

  it("round-trips arbitrary strings through a Markdown renderer", () => {
    const text = fc.string({
      unit: fc.oneof(fc.constantFrom("`", "|", "\\", "\"", "\n", "$", "{", "<", "&", " ", "*", "_"), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })),
      maxLength: 30,
    });
    fc.assert(fc.property(text, (value) => {
      expect(JSON.parse(readBack(literalCell(value)))).toBe(value);
    }), { numRuns: 300, seed: 7 });
  });
});
