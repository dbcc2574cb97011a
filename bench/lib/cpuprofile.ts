/**
 * Summaries of a V8 .cpuprofile (`node --cpu-prof`): self time by package or file, and inclusive time
 * of the functions on the stack. Pure.
 */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  /** Microseconds since the previous sample. */
  readonly timeDeltas: readonly number[];
}

/** Where a frame's code lives: `pkg:<name>` for node_modules, `node:` internals, a V8 bucket, or the file. */
export function locationOf(frame: CallFrame, root = ""): string {
  const { url, functionName } = frame;
  if (url === "") {
    return functionName.startsWith("(") ? functionName : "(native)";
  }
  if (url.startsWith("node:")) return "node: internals";
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = path.slice(nm + "/node_modules/".length).split("/");
    return `pkg:${rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return root && path.startsWith(root) ? path.slice(root.length).replace(/^\//, "") : path;
}

export interface Row {
  readonly key: string;
  readonly ms: number;
  readonly share: number;
}

function sorted(map: Map<string, number>, totalUs: number, top: number): Row[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => ({ key, ms: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }));
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Self time grouped by locationOf. */
  readonly byLocation: readonly Row[];
  /** Inclusive time of `function (location)`: the time it was anywhere on the stack. */
  readonly inclusive: readonly Row[];
}

export function summarizeProfile(profile: CpuProfile, options: { root?: string; top?: number } = {}): ProfileSummary {
  const top = options.top ?? 15;
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const node = byId.get(id);
    if (!node) return;
    const where = locationOf(node.callFrame, options.root);
    self.set(where, (self.get(where) ?? 0) + dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.functionName === "(root)") continue;
      const key = `${frame.functionName || "(anonymous)"} (${locationOf(frame, options.root)})`;
      if (seen.has(key)) continue; // recursion counts once
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  });
  return { totalMs: total / 1000, byLocation: sorted(self, total, top), inclusive: sorted(inclusive, total, top * 2) };
}
