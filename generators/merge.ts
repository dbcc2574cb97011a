/**
 * Line merges for `upgrade`, in TypeScript rather than `git merge-file`: the no-git fallback needs a
 * line diff anyway, one implementation behaves the same with or without git (and across git
 * versions), and a merge needs no temp files or process per file. Pure: strings in, strings out.
 *
 * merge3 is the classic diff3 (Khanna, Kunal and Pierce, "A Formal Investigation of Diff3"): lines
 * the base shares with both sides are stable; between them, a chunk only one side changed takes that
 * side, a chunk both changed the same way takes it once, anything else is a conflict, written in the
 * `git merge-file --diff3` style. Adjacent changes conflict, as in git.
 * merge2 is for a file without a base: every hunk where the two sides differ is marked (without a
 * base nobody can tell which side changed it), the lines they share are kept once.
 *
 * Text is handled as latin1, so any bytes survive the round trip unchanged.
 */

export interface MergeLabels {
  /** After `<<<<<<< `, e.g. "ours (your project)". */
  readonly ours: string;
  /** After `||||||| `. */
  readonly base: string;
  /** After `>>>>>>> `. */
  readonly theirs: string;
}

export interface MergeResult {
  readonly text: string;
  /** Conflict blocks written into text. */
  readonly conflicts: number;
}

/** Middle parts (after trimming the common prefix and suffix) larger than this are not diffed: all of it differs. */
const MAX_DP_CELLS = 25_000_000;

/** Lines with their terminators; the last one may lack "\n". */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * A longest common subsequence of a and b: for each index of a, the index of b it is matched to, or -1.
 * Matches are increasing in both.
 */
export function lcsMatches(a: readonly string[], b: readonly string[]): Int32Array {
  const match = new Int32Array(a.length).fill(-1);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) {
    match[start] = start;
    start++;
  }
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
    match[endA] = endB;
  }
  const n = endA - start;
  const m = endB - start;
  if (n === 0 || m === 0 || (n + 1) * (m + 1) > MAX_DP_CELLS) return match;
  // Lines as small integers: the table compares numbers, not strings.
  const ids = new Map<string, number>();
  const id = (line: string): number => {
    let v = ids.get(line);
    if (v === undefined) {
      v = ids.size;
      ids.set(line, v);
    }
    return v;
  };
  const x = Array.from({ length: n }, (_, i) => id(a[start + i]));
  const y = Array.from({ length: m }, (_, j) => id(b[start + j]));
  // suffix[i][j] = LCS length of x[i..] and y[j..]
  const width = m + 1;
  const suffix = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      suffix[i * width + j] =
        x[i] === y[j] ? suffix[(i + 1) * width + j + 1] + 1 : Math.max(suffix[(i + 1) * width + j], suffix[i * width + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      match[start + i] = start + j;
      i++;
      j++;
    } else if (suffix[(i + 1) * width + j] >= suffix[i * width + j + 1]) {
      i++;
    } else {
      j++;
    }
  }
  return match;
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((line, i) => line === b[i]);

/** Conflict sections end with a newline, so that the next marker starts a line. */
function block(lines: readonly string[]): string {
  const text = lines.join("");
  return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}

function conflict(ours: readonly string[], base: readonly string[] | undefined, theirs: readonly string[], labels: MergeLabels): string {
  return (
    `<<<<<<< ${labels.ours}\n${block(ours)}` +
    (base ? `||||||| ${labels.base}\n${block(base)}` : "") +
    `=======\n${block(theirs)}>>>>>>> ${labels.theirs}\n`
  );
}

/** Three-way merge of ours and theirs, both changed from base. */
export function merge3(base: string, ours: string, theirs: string, labels: MergeLabels): MergeResult {
  const o = splitLines(base);
  const a = splitLines(ours);
  const b = splitLines(theirs);
  const ma = lcsMatches(o, a);
  const mb = lcsMatches(o, b);
  const out: string[] = [];
  let conflicts = 0;
  let i = 0;
  let ia = 0;
  let ib = 0;
  while (i < o.length || ia < a.length || ib < b.length) {
    if (i < o.length && ma[i] === ia && mb[i] === ib) {
      out.push(o[i]);
      i++;
      ia++;
      ib++;
      continue;
    }
    // The next base line both sides kept ends this unstable chunk.
    let k = i;
    while (k < o.length && (ma[k] < 0 || mb[k] < 0)) k++;
    const endA = k < o.length ? ma[k] : a.length;
    const endB = k < o.length ? mb[k] : b.length;
    const chunkO = o.slice(i, k);
    const chunkA = a.slice(ia, endA);
    const chunkB = b.slice(ib, endB);
    if (same(chunkA, chunkO)) out.push(...chunkB);
    else if (same(chunkB, chunkO) || same(chunkA, chunkB)) out.push(...chunkA);
    else {
      out.push(conflict(chunkA, chunkO, chunkB, labels));
      conflicts++;
    }
    i = k;
    ia = endA;
    ib = endB;
  }
  return { text: out.join(""), conflicts };
}

/** Two-way "merge" without a base: shared lines once, every differing hunk marked (no base section). */
export function merge2(ours: string, theirs: string, labels: MergeLabels): MergeResult {
  const a = splitLines(ours);
  const b = splitLines(theirs);
  const m = lcsMatches(a, b);
  const out: string[] = [];
  let conflicts = 0;
  let ia = 0;
  let ib = 0;
  while (ia < a.length || ib < b.length) {
    if (ia < a.length && m[ia] === ib) {
      out.push(a[ia]);
      ia++;
      ib++;
      continue;
    }
    let k = ia;
    while (k < a.length && m[k] < 0) k++;
    const endB = k < a.length ? m[k] : b.length;
    out.push(conflict(a.slice(ia, k), undefined, b.slice(ib, endB), labels));
    conflicts++;
    ia = k;
    ib = endB;
  }
  return { text: out.join(""), conflicts };
}

/** The markers merge3/merge2 write, as a file left with unresolved conflicts shows them. */
export function hasConflictMarkers(text: string, labels: Pick<MergeLabels, "ours" | "theirs">): boolean {
  const ours = `<<<<<<< ${labels.ours.split(" ")[0]}`;
  const theirs = `>>>>>>> ${labels.theirs.split(" ")[0]}`;
  return splitLines(text).some((l) => l.startsWith(ours)) && splitLines(text).some((l) => l.startsWith(theirs));
}
