import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as fc from "fast-check";
import { parse } from "@cdktf/hcl2json";
import { escapeHclString, hclList, hclMap, hclString, hclValue, type PackerVars, renderPkrVars } from "../managed/hcl";
import { makeTempDir, removeDir, run } from "./support/packer";

/**
 * What hcl2json returns for a plain string literal: HCL normalizes strings to NFC, and hcl2json
 * answers in Terraform's JSON syntax, where a literal `${` / `%{` is written `$${` / `%%{`. An
 * interpolation would come back as `${...}` and differ.
 */
function asTerraformJson(literal: string): string {
  // A function replacement: in a replacement string "$$" means a single "$".
  return literal.normalize("NFC").replace(/\$\{|%\{/g, (opener) => opener[0] + opener);
}

/**
 * Positions where HCL's template scanner would start an interpolation or directive: a `${` / `%{`
 * that is not the tail of a `$${` / `%%{` escape (scanned left to right, as HCL does).
 */
function unescapedOpeners(text: string): number[] {
  const found: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "$" && c !== "%") continue;
    if (text[i + 1] === c && text[i + 2] === "{") i += 2;
    else if (text[i + 1] === "{") found.push(i);
  }
  return found;
}

/** Unicode strings (no lone surrogates), most of them built from the pieces the escaper treats specially. */
const fragment = fc.oneof(
  fc.constantFrom(
    "${",
    "%{",
    "$${",
    "%%{",
    "$",
    "%",
    "{",
    "}",
    "\\",
    '"',
    "\n",
    "\r",
    "\t",
    "\u0000",
    "\u007f",
    "\u2028",
    "\u202e",
    "e\u0301",
    "\uf9a8",
    "😀",
    " ",
  ),
  fc.string({ unit: "binary", maxLength: 4 }),
);
const tricky = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join("")),
);

describe("escapeHclString", () => {
  it.each([
    ["plain", "plain"],
    ['say "hi"', 'say \\"hi\\"'],
    ["C:\\dir", "C:\\\\dir"],
    ["a\nb\tc\rd", "a\\nb\\tc\\rd"],
    ["nul\u0000del\u007f", "nul\\u0000del\\u007f"],
    ["${var.x}", "$${var.x}"],
    ["%{ if true }", "%%{ if true }"],
    ["$${", "$$${"],
    ["cost: 5$ or 10%", "cost: 5$ or 10%"],
    ["trailing $", "trailing $"],
    ["bidi \u202e", "bidi \\u202e"],
    ["emoji 😀", "emoji 😀"],
    ["e\u0301 \uf9a8", "\u00e9 \u4ee4"],
  ])("escapes %j", (input, expected) => {
    expect(escapeHclString(input)).toBe(expected);
  });

  it("rejects a lone surrogate, which no UTF-8 file can carry", () => {
    expect(() => escapeHclString("a\ud800b")).toThrow(RangeError);
    expect(() => escapeHclString("\udc00")).toThrow(RangeError);
  });

  it("never leaves a raw control character, quote or interpolation opener (200 runs)", () => {
    fc.assert(
      fc.property(tricky, (s) => {
        const escaped = escapeHclString(s);
        expect(escaped).not.toMatch(/[\u0000-\u001f\u007f]/);
        // Every `"` is preceded by an odd number of backslashes.
        expect(escaped.replace(/\\\\/g, "").replace(/\\"/g, "")).not.toContain('"');
        expect(unescapedOpeners(escaped)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("hclString round trip through HashiCorp's parser", () => {
  it("reads back the same literal, never a template (20 files of 20-40 strings)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(tricky, { minLength: 20, maxLength: 40 }), async (strings) => {
        const source = strings.map((s, i) => `v${i} = ${hclString(s)}\n`).join("");
        const parsed = await parse("roundtrip.hcl", source);
        for (const [i, s] of strings.entries()) expect(parsed[`v${i}`]).toBe(asTerraformJson(s));
      }),
      { numRuns: 20 },
    );
  });

  it("detects a broken escaper: an unescaped interpolation parses as a template", async () => {
    const parsed = await parse("broken.hcl", 'v = "${var.x}"\n');
    expect(parsed.v).not.toBe(asTerraformJson("${var.x}"));
  });

  it("emits lists and maps that parse to the same values", async () => {
    const map = { "aws-key": "v1", "with space": "${x}", 'k"q': "%{y}", count: 3, on: true };
    const source = `list = ${hclList(["a", 1.5, false, "b\nc"])}\nmap = ${hclMap(map)}\nn = ${hclValue(-2e-7)}\n`;
    const parsed = await parse("emit.hcl", source);
    expect(parsed.list).toEqual(["a", 1.5, false, "b\nc"]);
    expect(parsed.map).toEqual({ "aws-key": "v1", "with space": "$${x}", 'k"q': "%%{y}", count: 3, on: true });
    expect(parsed.n).toBe(-2e-7);
    expect(hclMap({})).toBe("{}");
    expect(() => hclMap({ "\u00e9": "a", "e\u0301": "b" })).toThrow(/same key/);
    expect(() => hclValue(Number.NaN)).toThrow(RangeError);
    expect(() => hclValue(Infinity)).toThrow(RangeError);
  });
});

const exampleVars: PackerVars = {
  app_name: "shop",
  app_version: "1.4.2",
  aws_region: "eu-west-1",
  instance_type: "t3.small",
  base_os: "ubuntu-24.04",
  container_image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1.4.2",
  app_port: 8080,
  health_check_path: "/healthz",
  ami_ssm_parameter: "/shop/image/ami-id",
  tags: { team: "web", "cost-center": "42" },
};

describe("renderPkrVars", () => {
  it("renders every variable, scalars aligned as packer fmt aligns them", async () => {
    const text = renderPkrVars(exampleVars);
    expect(text).toContain('app_name          = "shop"\n');
    expect(text).toContain("app_port          = 8080\n");
    expect(text).toContain('tags = {\n  "cost-center" = "42"\n  "team"        = "web"\n}\n');
    expect(await parse("shop.auto.pkrvars.hcl", text)).toEqual({ ...exampleVars });
  });

  it("writes architecture and subnet_id only when set", async () => {
    const text = renderPkrVars({ ...exampleVars, architecture: "arm64", subnet_id: "subnet-0123456789abcdef0" });
    const parsed = await parse("shop.auto.pkrvars.hcl", text);
    expect(parsed.architecture).toBe("arm64");
    expect(parsed.subnet_id).toBe("subnet-0123456789abcdef0");
    expect(renderPkrVars(exampleVars)).not.toMatch(/architecture|subnet_id/);
  });

  it("is packer fmt clean and parses back for arbitrary tag maps (one packer run, 20 files)", async () => {
    const samples = fc.sample(
      fc.record({
        // Keys like tag keys (letters of any script, digits, _.:/=+-@ and space) plus what needs escaping.
        tags: fc.dictionary(
          fc
            .array(
              fc.constantFrom(
                "a",
                "Z",
                "0",
                "_",
                ".",
                ":",
                "/",
                "=",
                "+",
                "-",
                "@",
                " ",
                "é",
                "e\u0301",
                "ß",
                "日本",
                "${",
                "%{",
                '"',
                "\\",
              ),
              { minLength: 1, maxLength: 8 },
            )
            .map((parts) => parts.join("").normalize("NFC")),
          tricky,
          { maxKeys: 6 },
        ),
        app_version: fc.stringMatching(/^[0-9A-Za-z][0-9A-Za-z._-]{0,20}$/),
        app_port: fc.integer({ min: 1, max: 65535 }),
      }),
      { numRuns: 20 },
    );
    const dir = makeTempDir("pkrvars");
    try {
      const files = samples.map((sample, i) => {
        const name = `sample${i}.pkrvars.hcl`;
        writeFileSync(join(dir, name), renderPkrVars({ ...exampleVars, ...sample }));
        return name;
      });
      const fmt = run("packer", ["fmt", "-check", "-diff", "."], { cwd: dir });
      expect(fmt.stdout + fmt.stderr).toBe("");
      expect(fmt.status).toBe(0);
      for (const [i, sample] of samples.entries()) {
        const parsed = await parse(files[i], renderPkrVars({ ...exampleVars, ...sample }));
        const expectedTags = Object.fromEntries(Object.entries(sample.tags).map(([k, v]) => [asTerraformJson(k), asTerraformJson(v)]));
        expect(parsed.tags).toEqual(expectedTags);
        expect(parsed.app_version).toBe(sample.app_version);
        expect(parsed.app_port).toBe(sample.app_port);
      }
    } finally {
      removeDir(dir);
    }
  });
});
