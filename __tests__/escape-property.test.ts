/**
 * Property: any string, escaped with escapeTfString and written into a .tf.json file, is read back by
 * the real terraform as exactly the same literal (no interpolation, no directive, nothing lost).
 */
import fc from "fast-check";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { escapeTfString, unescapeTfString } from "../managed/escape";
import { tempDir, TerraformDir, writeCliConfig } from "./support/terraform";

/** Strings rich in what templates care about: $, %, {, }, ~, backslashes, quotes and any unicode. */
const templateish = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("$", "%", "{", "}", "~", "\\", '"', "$${", "%%{", "${", "%{") },
    { weight: 2, arbitrary: fc.constantFrom("a", " ", "\n", "\t", "é", "😀", "\u0000", "\u007f") },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 1 }) },
  ),
  maxLength: 40,
});

describe("escapeTfString round trip through terraform", () => {
  it("terraform reads back every escaped string literally", () => {
    const samples = fc.sample(templateish, { numRuns: 150, seed: 20261126 });
    samples.push("${var.x}", "%{ if true }yes%{ endif }", "$${already}", "%%{already}", "$$${x}", "100% of $5 {}", "");
    const dir = tempDir("escape-roundtrip");
    const config = {
      output: Object.fromEntries(samples.map((s, i) => [`s${i}`, { value: escapeTfString(s) }])),
    };
    writeFileSync(join(dir, "main.tf.json"), JSON.stringify(config));
    const tf = new TerraformDir(dir, writeCliConfig(dir));
    tf.ok(["init", "-input=false", "-no-color"]);
    tf.ok(["apply", "-input=false", "-no-color", "-auto-approve", "-lock=false"]);
    const outputs = JSON.parse(tf.ok(["output", "-json"])) as Record<string, { value: string }>;
    const back = samples.map((_, i) => outputs[`s${i}`].value);
    expect(back).toEqual(samples);
  });

  it("unescapeTfString inverts it", () => {
    fc.assert(
      fc.property(templateish, (s) => {
        expect(unescapeTfString(escapeTfString(s))).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it("changes nothing in strings without an opener and adds exactly one character per opener", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const escaped = escapeTfString(s);
        const openers = (s.match(/\$\{|%\{/g) ?? []).length;
        expect(escaped.length).toBe(s.length + openers);
        if (openers === 0) expect(escaped).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});
