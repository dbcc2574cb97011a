/**
 * Rewrites deep provider imports into barrel imports, the way `cdktf init` projects and the cdktf
 * docs write them. Pure: the caller reads the sources and the provider's index.
 *
 *   import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
 * becomes
 *   import { launchTemplate as aws_launchTemplate } from "@cdktf/provider-aws";
 *   import LaunchTemplate = aws_launchTemplate.LaunchTemplate;
 *
 * The alias keeps every original name meaning what it meant (value and type), so the rest of the file
 * is untouched; loading and type-checking go through the package index, which is the cost measured.
 */

export const PROVIDER_PACKAGE = "@cdktf/provider-aws";

/** Module directory under lib/ -> namespace the barrel exports it as, from `export * as x from './y'`. */
export function parseBarrelIndex(indexDts: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of indexDts.matchAll(/export\s+\*\s+as\s+([A-Za-z_$][\w$]*)\s+from\s+['"]\.\/([^'"]+)['"]/g)) {
    map.set(m[2].replace(/\/index$/, ""), m[1]);
  }
  return map;
}

const DEEP_IMPORT = new RegExp(
  String.raw`^[ \t]*import\s+(type\s+)?(\{[^}]*\}|\*\s+as\s+[A-Za-z_$][\w$]*)\s+from\s+(['"])` +
    PROVIDER_PACKAGE.replace(/[/]/g, "\\/") +
    String.raw`\/lib\/([\w./-]+?)(?:\/index)?(?:\.js)?\3\s*;?[ \t]*$`,
  "gm",
);

export interface RewriteResult {
  readonly source: string;
  /** How many deep import declarations were replaced. */
  readonly rewritten: number;
}

/**
 * Replaces every deep import of the provider in one TypeScript source. Throws on a module the index
 * does not export (the baseline would silently differ otherwise).
 */
export function rewriteToBarrel(source: string, namespaces: ReadonlyMap<string, string>): RewriteResult {
  const used: string[] = [];
  const aliases: string[] = [];
  let rewritten = 0;
  const stripped = source.replace(DEEP_IMPORT, (whole: string, _type: string | undefined, clause: string, _q: string, mod: string) => {
    const ns = namespaces.get(mod);
    if (ns === undefined) throw new Error(`${PROVIDER_PACKAGE}/lib/${mod} is not exported by the package index`);
    const local = `aws_${ns}`;
    if (!used.includes(ns)) used.push(ns);
    if (clause.startsWith("*")) {
      aliases.push(`import ${clause.replace(/^\*\s+as\s+/, "")} = ${local};`);
    } else {
      for (const spec of clause
        .slice(1, -1)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)) {
        const m = /^(?:type\s+)?([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?$/.exec(spec);
        if (!m) throw new Error(`cannot rewrite import specifier "${spec}" in: ${whole.trim()}`);
        aliases.push(`import ${m[2] ?? m[1]} = ${local}.${m[1]};`);
      }
    }
    rewritten += 1;
    return "\u0000";
  });
  if (rewritten === 0) return { source, rewritten };
  const barrel = `import { ${used.map((ns) => `${ns} as aws_${ns}`).join(", ")} } from "${PROVIDER_PACKAGE}";\n${aliases.join("\n")}`;
  // The barrel import and the aliases take the place of the first deep import; the others disappear.
  let first = true;
  const out = stripped.replace(/\u0000\r?\n?/g, () => {
    if (!first) return "";
    first = false;
    return `${barrel}\n`;
  });
  return { source: out, rewritten };
}
