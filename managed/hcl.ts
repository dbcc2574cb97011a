/**
 * The one escaper and emitter for values that land in HCL native syntax (the `.auto.pkrvars.hcl` file
 * that carries a project's answers to the Packer templates in `packer/`).
 *
 * HCL reads every quoted string as a template: `${...}` interpolates and `%{...}` is a directive, so
 * the literal sequences are written `$${` and `%%{`. A lone `$` or `%` is already literal. Inside the
 * quotes `\` and `"` are escapes and a raw newline is a syntax error; control characters are written
 * as escapes so that a value can never change the shape of the file.
 *
 * HCL normalizes every string to Unicode NFC, escaped characters included (`"\uf9a8"` reads back as
 * U+4EE4). The escaper normalizes first, so the file shows exactly the value HCL will read.
 */

import { escapeTfString } from "./escape";

/** A value that {@link hclValue} can emit. */
export type HclScalar = string | number | boolean;

/**
 * Characters written as `\uXXXX` although HCL would accept some of them raw: C0/C1 controls and DEL
 * (invisible, some rejected by the parser), line/paragraph separators, the byte-order mark, and the
 * bidirectional overrides that make a file read differently from what it contains ("trojan source").
 */
const ESCAPED_AS_UNICODE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\ufeff\u202a-\u202e\u2066-\u2069]/;

/**
 * Escapes `value` for use between the double quotes of an HCL native-syntax string literal, so that
 * HCL reads back exactly `value.normalize("NFC")` as a plain string (never a template).
 *
 * @throws RangeError when `value` contains a lone UTF-16 surrogate, which no UTF-8 file can carry.
 */
export function escapeHclString(input: string): string {
  assertWellFormed(input);
  return escapeHclTemplateText(escapeTfString(input.normalize("NFC")));
}

/**
 * Escapes template text for the inside of a quoted HCL string: `\`, `"`, newlines, tabs and the
 * characters of ESCAPED_AS_UNICODE. Template syntax (`${`, `%{`, and their literal forms `$${`, `%%{`)
 * passes through unchanged: the export copies Terraform templates with it; escapeHclString has already
 * turned a value's openers into their literal forms.
 */
export function escapeHclTemplateText(text: string): string {
  let out = "";
  for (const ch of text) {
    switch (ch) {
      case "\\":
        out += "\\\\";
        break;
      case '"':
        out += '\\"';
        break;
      case "\n":
        out += "\\n";
        break;
      case "\r":
        out += "\\r";
        break;
      case "\t":
        out += "\\t";
        break;
      default:
        out += ESCAPED_AS_UNICODE.test(ch) ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}` : ch;
    }
  }
  return out;
}

/** Throws on a lone UTF-16 surrogate, which no UTF-8 file can carry. */
function assertWellFormed(value: string): void {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0xd800 || code > 0xdfff) continue;
    const next = value.charCodeAt(i + 1);
    if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    throw new RangeError(`lone UTF-16 surrogate at index ${i} cannot be written to an HCL file`);
  }
}

/** The quoted HCL string literal that reads back as exactly `value` (in NFC). */
export function hclString(value: string): string {
  return `"${escapeHclString(value)}"`;
}

/** An HCL literal for a string, a finite number or a boolean. */
export function hclValue(value: HclScalar): string {
  switch (typeof value) {
    case "string":
      return hclString(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) {
        throw new RangeError(`${value} has no HCL literal`);
      }
      // JavaScript's shortest round-trip form (`1e+21`, `0.1`, `-3`) is valid HCL.
      return String(value);
  }
}

/** A one-line HCL tuple, e.g. `["a", "b"]`. */
export function hclList(values: readonly HclScalar[]): string {
  return `[${values.map(hclValue).join(", ")}]`;
}

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/**
 * Length as `packer fmt` (hclwrite) counts it when it aligns `=`: in grapheme clusters. Unicode
 * versions differ between Node and packer builds for rare clusters; keys are names, so this is rare.
 */
function width(text: string): number {
  let n = 0;
  for (const _ of graphemes.segment(text)) n++;
  return n;
}

/**
 * Lines `name = value` with the `=` aligned the way `packer fmt` aligns a run of single-line
 * attributes. `indent` is prepended to every line.
 */
export function hclAlignedAttributes(entries: ReadonlyArray<readonly [string, string]>, indent = ""): string[] {
  const column = Math.max(0, ...entries.map(([name]) => width(name)));
  return entries.map(([name, value]) => `${indent}${name}${" ".repeat(column - width(name))} = ${value}`);
}

/**
 * An HCL object of string/number/bool values, keys quoted (a quoted key is always a literal, whatever
 * it contains) and sorted, laid out as `packer fmt` lays it out. An empty map is `{}`.
 *
 * @throws RangeError when two keys differ only in Unicode normalization (HCL would see a duplicate).
 */
export function hclMap(values: Readonly<Record<string, HclScalar>>, indent = ""): string {
  const keys = Object.keys(values).sort();
  if (keys.length === 0) return "{}";
  const seen = new Map<string, string>();
  for (const key of keys) {
    const normalized = key.normalize("NFC");
    const other = seen.get(normalized);
    if (other !== undefined) {
      throw new RangeError(`keys ${JSON.stringify(other)} and ${JSON.stringify(key)} are the same key in HCL (Unicode NFC)`);
    }
    seen.set(normalized, key);
  }
  const lines = hclAlignedAttributes(
    keys.map((key) => [hclString(key), hclValue(values[key])] as const),
    `${indent}  `,
  );
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** The base images the templates know; see `local.base_images` in `packer/app.pkr.hcl`. */
export type BaseOs = "ubuntu-24.04" | "al2023" | "debian-12";

/** The CPU architecture of the build instance and the AMI. */
export type Architecture = "x86_64" | "arm64";

/**
 * The values a project gives the Packer templates, one field per variable in
 * `packer/variables.pkr.hcl` (same names, snake_case, so the file reads like the variables it sets).
 * Build-time values (`git_sha`) are passed on the `packer build` command line instead.
 */
export interface PackerVars {
  /** App name, `^[a-z][a-z0-9-]{0,19}$`; names the unit, the user, the AMI and the SSM paths. */
  readonly app_name: string;
  /** Version baked into the AMI name and tags, `^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`. */
  readonly app_version: string;
  /** Region the AMI is built in. */
  readonly aws_region: string;
  /** Instance type of the temporary build instance. */
  readonly instance_type: string;
  /** Base image. */
  readonly base_os: BaseOs;
  /** CPU architecture; must match `instance_type`. @default "x86_64" (left out of the file) */
  readonly architecture?: Architecture;
  /** The app's container image, pulled once at bake time (tag or digest reference). */
  readonly container_image: string;
  /** Port the app listens on inside the container and on the instance. */
  readonly app_port: number;
  /** HTTP path that answers 2xx when the app is healthy; the image test and the ALB use it. */
  readonly health_check_path: string;
  /** SSM parameter (data type `aws:ec2:image`) that receives the AMI id; "" = don't publish. */
  readonly ami_ssm_parameter: string;
  /** Subnet of the build instance; "" = the default VPC. @default "" (left out of the file) */
  readonly subnet_id?: string;
  /** Extra tags on the AMI, its snapshots and the build instance. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Renders the `<app>.auto.pkrvars.hcl` file: a header comment, the scalar variables as one aligned
 * run, then the tags map. Pure; the output is `packer fmt` clean.
 */
export function renderPkrVars(vars: PackerVars): string {
  const scalars: Array<readonly [string, string]> = [
    ["app_name", hclString(vars.app_name)],
    ["app_version", hclString(vars.app_version)],
    ["aws_region", hclString(vars.aws_region)],
    ["instance_type", hclString(vars.instance_type)],
    ["base_os", hclString(vars.base_os)],
  ];
  if (vars.architecture !== undefined) scalars.push(["architecture", hclString(vars.architecture)]);
  scalars.push(
    ["container_image", hclString(vars.container_image)],
    ["app_port", hclValue(vars.app_port)],
    ["health_check_path", hclString(vars.health_check_path)],
    ["ami_ssm_parameter", hclString(vars.ami_ssm_parameter)],
  );
  if (vars.subnet_id !== undefined) scalars.push(["subnet_id", hclString(vars.subnet_id)]);
  return [
    "# Answers for the Packer templates in this folder; packer loads *.auto.pkrvars.hcl by itself.",
    '# Build-time values are passed on the command line: packer build -var "git_sha=$(git rev-parse HEAD)" .',
    ...hclAlignedAttributes(scalars),
    "",
    `tags = ${hclMap(vars.tags)}`,
    "",
  ].join("\n");
}
