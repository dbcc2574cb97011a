/**
 * Terraform JSON -> HCL native syntax, written in `terraform fmt` canonical form.
 *
 * cdktf 0.21's own HCL synthesis (`toHclTerraform`) leaves quotes unescaped in strings that contain an
 * interpolation, which yields invalid HCL for any JSON policy with a reference in it. So the values come
 * from the JSON synthesis (what `cdktf synth` writes and Terraform validates), and cdktf's HCL fragments
 * are only asked which attributes are nested blocks (see synth.ts), which the JSON alone cannot tell.
 *
 * Every JSON string is a Terraform template; its interpolations and directives are HCL expressions in
 * both syntaxes, so they are copied verbatim and only the literal parts are escaped for a quoted string.
 */
import { escapeHclTemplateText, hclString } from "../hcl";
import { ExportError } from "./errors";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Dotted key paths (`instance_refresh`, `instance_refresh.preferences`) that are nested blocks. */
export type BlockPaths = ReadonlySet<string>;

const INDENT = "  ";
const KEYWORDS = new Set(["true", "false", "null", "for", "in", "if", "endfor", "endif", "else"]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Lists of scalars up to this width stay on one line. */
const INLINE_LIST_WIDTH = 80;

interface TemplatePart {
  /** literal text, or raw template syntax copied as is (`${...}`, `%{...}`, `$${`, `%%{`) */
  readonly kind: "literal" | "raw";
  readonly text: string;
}

/** Splits a Terraform template into literal text and template syntax. */
export function splitTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  const flush = () => {
    if (literal) parts.push({ kind: "literal", text: literal });
    literal = "";
  };
  while (i < template.length) {
    const two = template.slice(i, i + 2);
    const three = template.slice(i, i + 3);
    if (three === "$${" || three === "%%{") {
      flush();
      parts.push({ kind: "raw", text: three });
      i += 3;
    } else if (two === "${" || two === "%{") {
      flush();
      const end = closingBrace(template, i + 2);
      parts.push({ kind: "raw", text: template.slice(i, end + 1) });
      i = end + 1;
    } else {
      literal += template[i];
      i += 1;
    }
  }
  flush();
  return parts;
}

/** Index of the `}` closing the expression that starts at `start`, skipping nested braces and strings. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === "{") depth += 1;
    else if (c === "}") {
      if (depth === 0) return i;
      depth -= 1;
    } else if (c === '"') {
      i = closingQuote(text, i + 1);
    }
    i += 1;
  }
  throw new ExportError("internal", `unterminated interpolation in ${JSON.stringify(text)}`);
}

/** Index of the `"` closing a quoted string inside an expression, skipping escapes and nested templates. */
function closingQuote(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\") i += 2;
    else if (c === '"') return i;
    else if ((c === "$" || c === "%") && text[i + 1] === "{") {
      if (text[i - 1] === c) i += 2;
      else i = closingBrace(text, i + 2) + 1;
    } else i += 1;
  }
  throw new ExportError("internal", `unterminated string in ${JSON.stringify(text)}`);
}

/** A quoted HCL template with the same meaning as the Terraform JSON string `template`. */
export function quoteTemplate(template: string): string {
  return `"${splitTemplate(template)
    .map((p) => (p.kind === "raw" ? p.text : escapeHclTemplateText(p.text)))
    .join("")}"`;
}

/**
 * The HCL expression for a JSON string: a template that is one interpolation and nothing else is the
 * bare expression (`aws_vpc.main.id`), which Terraform evaluates to the same value without conversion.
 */
export function templateExpression(template: string): string {
  const parts = splitTemplate(template);
  if (parts.length === 1 && parts[0].kind === "raw" && parts[0].text.startsWith("${")) {
    const inner = parts[0].text.slice(2, -1);
    if (!inner.startsWith("~") && !inner.endsWith("~") && inner.trim() !== "") return inner.trim();
  }
  return quoteTemplate(template);
}

/** A literal string (variable defaults): template syntax in it must stay literal. */
export function literalString(value: string): string {
  return hclString(value);
}

/** An object key: bare when it is a plain identifier, else a quoted template. */
export function objectKey(key: string): string {
  return IDENTIFIER.test(key) && !KEYWORDS.has(key) ? key : quoteTemplate(key);
}

/** Renders a value as HCL expression lines (the first line follows `name = `). */
export function expressionLines(value: Json, literal = false): string[] {
  if (value === null) return ["null"];
  if (typeof value === "boolean" || typeof value === "number") return [String(value)];
  if (typeof value === "string") return [literal ? literalString(value) : templateExpression(value)];
  if (Array.isArray(value)) {
    if (value.length === 0) return ["[]"];
    const items = value.map((item) => expressionLines(item, literal));
    if (items.every((lines) => lines.length === 1) && value.every((v) => v === null || typeof v !== "object")) {
      const inline = `[${items.map((lines) => lines[0]).join(", ")}]`;
      if (inline.length <= INLINE_LIST_WIDTH) return [inline];
    }
    const body = items.flatMap((lines) => {
      const copy = [...lines];
      copy[copy.length - 1] += ",";
      return copy.map((line) => INDENT + line);
    });
    return ["[", ...body, "]"];
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return ["{}"];
  const entries: Entry[] = keys.map((key) => ({ kind: "attribute", name: objectKey(key), lines: expressionLines(value[key], literal) }));
  return ["{", ...renderEntries(entries).map(indent), "}"];
}

type Entry =
  | { readonly kind: "attribute"; readonly name: string; readonly lines: readonly string[] }
  | { readonly kind: "block"; readonly lines: readonly string[] };

function indent(line: string): string {
  return line === "" ? line : INDENT + line;
}

/**
 * Lines of a body, aligned like `terraform fmt`: the `=` of consecutive one-line attributes line up;
 * a multi-line attribute or a block ends the run and is not padded.
 */
function renderEntries(entries: readonly Entry[]): string[] {
  const out: string[] = [];
  let run: Array<{ name: string; value: string }> = [];
  const flush = () => {
    const width = Math.max(0, ...run.map((a) => a.name.length));
    for (const a of run) out.push(`${a.name.padEnd(width)} = ${a.value}`);
    run = [];
  };
  for (const entry of entries) {
    if (entry.kind === "attribute" && entry.lines.length === 1) {
      run.push({ name: entry.name, value: entry.lines[0] });
      continue;
    }
    flush();
    if (entry.kind === "attribute") {
      out.push(`${entry.name} = ${entry.lines[0]}`, ...entry.lines.slice(1));
    } else {
      out.push(...entry.lines);
    }
  }
  flush();
  return out;
}

/** How one kind of top-level block treats its keys. */
export interface BodyRules {
  /** Dotted paths of nested blocks. */
  readonly blocks: BlockPaths;
  /** Keys whose string values are expressions (references), never templates: depends_on, type, ... */
  readonly expressions?: ReadonlySet<string>;
  /** Keys whose values are literal values, not templates: a variable's default. */
  readonly literals?: ReadonlySet<string>;
  /** Keys rendered first, in this order; the rest follow sorted, then blocks. */
  readonly first?: readonly string[];
  /** Keys rendered last, in this order (after blocks): depends_on, lifecycle. */
  readonly last?: readonly string[];
}

const LIFECYCLE_RULES: BodyRules = {
  blocks: new Set(["precondition", "postcondition"]),
  expressions: new Set(["ignore_changes", "replace_triggered_by"]),
  first: ["create_before_destroy", "prevent_destroy"],
};

/** The body of a block as lines (without the braces). */
export function bodyLines(body: JsonObject, rules: BodyRules, path = ""): string[] {
  const keys = Object.keys(body).filter((k) => k !== "//");
  for (const key of keys) {
    if (key === "dynamic" || key === "provisioner" || key === "connection") {
      throw new ExportError("internal", `the HCL export does not support "${key}" blocks; export JSON instead`);
    }
  }
  const first = (rules.first ?? []).filter((k) => keys.includes(k));
  const last = (rules.last ?? []).filter((k) => keys.includes(k));
  const middle = keys.filter((k) => !first.includes(k) && !last.includes(k)).sort();
  const isBlock = (key: string) => rules.blocks.has(path + key) || (path === "" && key === "lifecycle");
  const ordered = [...first, ...middle.filter((k) => !isBlock(k)), ...middle.filter((k) => isBlock(k)), ...last];
  const entries: Entry[] = ordered.map((key): Entry => {
    const value = body[key];
    if (isBlock(key)) {
      const nestedRules = path === "" && key === "lifecycle" ? LIFECYCLE_RULES : rules;
      const nestedPath = nestedRules === rules ? `${path}${key}.` : "";
      const items = Array.isArray(value) ? value : [value];
      return {
        kind: "block",
        lines: items.flatMap((item) => {
          if (item === null || typeof item !== "object" || Array.isArray(item)) {
            throw new ExportError("internal", `block ${path}${key} is not an object`);
          }
          return [`${key} {`, ...bodyLines(item, nestedRules, nestedPath).map(indent), "}"];
        }),
      };
    }
    if (rules.expressions?.has(key)) return { kind: "attribute", name: key, lines: referenceLines(value) };
    return { kind: "attribute", name: key, lines: expressionLines(value, rules.literals?.has(key) ?? false) };
  });
  return renderEntries(entries);
}

/** depends_on, ignore_changes, type: JSON strings that are bare expressions. */
function referenceLines(value: Json): string[] {
  const bare = (s: Json) => {
    if (typeof s !== "string") throw new ExportError("internal", `expected a reference, got ${JSON.stringify(s)}`);
    const parts = splitTemplate(s);
    return parts.length === 1 && parts[0].kind === "raw" && parts[0].text.startsWith("${") ? parts[0].text.slice(2, -1).trim() : s;
  };
  if (!Array.isArray(value)) return [bare(value)];
  if (value.length === 0) return ["[]"];
  const items = value.map(bare);
  const inline = `[${items.join(", ")}]`;
  if (inline.length <= INLINE_LIST_WIDTH) return [inline];
  return ["[", ...items.map((i) => `${INDENT}${i},`), "]"];
}

/** `type "label" ... { body }` */
export function block(type: string, labels: readonly string[], body: JsonObject, rules: BodyRules): string {
  const head = [type, ...labels.map((l) => JSON.stringify(l))].join(" ");
  const lines = bodyLines(body, rules);
  if (lines.length === 0) return `${head} {\n}`;
  return [`${head} {`, ...lines.map(indent), "}"].join("\n");
}

/** A file of top-level blocks separated by blank lines, with the trailing newline `terraform fmt` wants. */
export function hclFile(blocks: readonly string[]): string {
  return `${blocks.join("\n\n")}\n`;
}

export const VARIABLE_RULES: BodyRules = {
  blocks: new Set(["validation"]),
  expressions: new Set(["type"]),
  literals: new Set(["default"]),
  first: ["description", "type", "default", "nullable", "sensitive", "ephemeral"],
};

export const OUTPUT_RULES: BodyRules = {
  blocks: new Set(["precondition"]),
  expressions: new Set(["depends_on"]),
  first: ["description", "value", "sensitive", "ephemeral"],
  last: ["depends_on"],
};

/** Rules for a resource or data source, given cdktf's block paths for it. */
export function resourceRules(blocks: BlockPaths): BodyRules {
  return {
    blocks,
    expressions: new Set(["depends_on", "provider"]),
    first: ["count", "for_each", "provider"],
    last: ["depends_on", "lifecycle"],
  };
}

export function providerRules(blocks: BlockPaths): BodyRules {
  return { blocks, first: ["alias", "region"] };
}
