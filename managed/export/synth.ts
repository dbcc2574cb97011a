/**
 * Synthesizes the project's stacks in process, the way `cdktf synth` does (aspects, validations), but
 * into a throw-away folder: the export reads the stacks' JSON from memory and never uses cdktf.out.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, DefaultTokenResolver, StringConcat, TerraformElement, type TerraformStack, Tokenization } from "cdktf";
import type { AppConfig } from "../config";
import { addStacks } from "../../stacks/app";
import type { BlockPaths, Json, JsonObject } from "./hcl";

export interface SynthesizedStack {
  /** The stack's name: the environment. */
  readonly name: string;
  /** The stack's Terraform JSON, without cdktf's `//` metadata. */
  readonly config: JsonObject;
  /** Which attributes are nested blocks, per `provider.aws`, `resource.<type>.<name>`, `data.<type>.<name>`, `variable.<name>`. */
  readonly blocks: ReadonlyMap<string, BlockPaths>;
  /** Resource and data addresses (`aws_vpc.main`, `data.aws_ami.x`) in the order the constructs were defined. */
  readonly order: readonly string[];
}

/** The resolver cdktf applies to a stack's elements when it renders them. */
const RESOLVER = new DefaultTokenResolver(new StringConcat());

export function synthesize(config: AppConfig): SynthesizedStack[] {
  const outdir = mkdtempSync(join(tmpdir(), "immutable-export-"));
  try {
    // No stack traces: they would put this machine's paths into the metadata.
    const app = new App({ outdir, stackTraces: false });
    const stacks: TerraformStack[] = addStacks(app, config);
    app.synth();
    return stacks.map((stack) => describeStack(stack));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function describeStack(stack: TerraformStack): SynthesizedStack {
  const json = stripMetadata(JSON.parse(JSON.stringify(stack.toTerraform())) as Json) as JsonObject;
  const blocks = new Map<string, Set<string>>();
  const order: string[] = [];
  const elements = stack.node.findAll().filter(TerraformElement.isTerraformElement) as TerraformElement[];
  for (const element of elements) {
    const fragment = Tokenization.resolve((element as unknown as { toHclTerraform(): unknown }).toHclTerraform(), {
      scope: stack,
      preparing: false,
      resolver: RESOLVER,
    }) as Record<string, any>;
    for (const kind of ["resource", "data"] as const) {
      for (const [type, byName] of Object.entries<Record<string, any>>(fragment[kind] ?? {})) {
        for (const [name, body] of Object.entries<Record<string, any>>(byName)) {
          blocks.set(`${kind}.${type}.${name}`, blockPaths(body));
          order.push(kind === "resource" ? `${type}.${name}` : `data.${type}.${name}`);
        }
      }
    }
    for (const [name, instances] of Object.entries<any>(fragment.provider ?? {})) {
      const merged = new Set<string>();
      for (const instance of Array.isArray(instances) ? instances : [instances]) {
        for (const path of blockPaths(instance)) merged.add(path);
      }
      blocks.set(`provider.${name}`, merged);
    }
    for (const [name, body] of Object.entries<Record<string, any>>(fragment.variable ?? {})) {
      blocks.set(`variable.${name}`, blockPaths(body));
    }
  }
  return { name: stack.node.id, config: json, blocks, order };
}

/** cdktf's HCL fragments wrap each attribute as `{ value, isBlock | is_block, type, ... }`. */
function isWrapper(value: unknown): value is { value: unknown; isBlock?: boolean; is_block?: boolean } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "value" in value && "type" in value;
}

export function blockPaths(body: Record<string, unknown>, prefix = "", into = new Set<string>()): Set<string> {
  for (const [key, wrapper] of Object.entries(body)) {
    if (!isWrapper(wrapper) || !(wrapper.isBlock || wrapper.is_block)) continue;
    into.add(prefix + key);
    const items = Array.isArray(wrapper.value) ? wrapper.value : [wrapper.value];
    for (const item of items) {
      if (typeof item === "object" && item !== null) blockPaths(item as Record<string, unknown>, `${prefix}${key}.`, into);
    }
  }
  return into;
}

/** Drops every `//` key: cdktf's construct paths and metadata, meaningless to a Terraform user. */
export function stripMetadata(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripMetadata);
  if (value === null || typeof value !== "object") return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    if (key !== "//") out[key] = stripMetadata(value[key]);
  }
  return out;
}
