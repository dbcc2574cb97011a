/**
 * Three-way merge of JSON files (package.json, tsconfig.json, cdktf.json) by keys, for `upgrade`: a
 * dependency the team added and one the new version changed are different keys, so they never clash
 * (a line merge sees neighbouring lines and marks a conflict). Pure: strings in, string out.
 *
 * Objects merge key by key, recursively; anything else (a string, a number, an array) is one value:
 * taken from the side that changed it, once when both changed it alike. Two different changes to one
 * value are a conflict: then undefined, and the caller falls back to the line merge, which marks it.
 * The result keeps the team's key order (a key the new version added goes after its predecessor there)
 * and the team's indentation.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: Json | undefined): v is { [key: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

const equal = (a: Json | undefined, b: Json | undefined): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Absent on one side = deleted there. */
const ABSENT = Symbol("absent");
type Slot = Json | typeof ABSENT;

function mergeValue(base: Slot, ours: Slot, theirs: Slot): Slot | undefined {
  const same = (a: Slot, b: Slot): boolean => (a === ABSENT || b === ABSENT ? a === b : equal(a, b));
  if (same(ours, theirs)) return ours;
  if (same(base, ours)) return theirs;
  if (same(base, theirs)) return ours;
  if (base !== ABSENT && ours !== ABSENT && theirs !== ABSENT && isObject(base) && isObject(ours) && isObject(theirs)) {
    return mergeObjects(base, ours, theirs);
  }
  // Both added the same key as objects: merge them against an empty base.
  if (base === ABSENT && ours !== ABSENT && theirs !== ABSENT && isObject(ours) && isObject(theirs)) {
    return mergeObjects({}, ours, theirs);
  }
  return undefined;
}

function mergeObjects(
  base: { [key: string]: Json },
  ours: { [key: string]: Json },
  theirs: { [key: string]: Json },
): { [key: string]: Json } | undefined {
  const slot = (o: { [key: string]: Json }, k: string): Slot => (Object.hasOwn(o, k) ? o[k] : ABSENT);
  // The team's order; a key only the new version has goes right after the key before it there.
  const order = Object.keys(ours);
  const theirKeys = Object.keys(theirs);
  theirKeys.forEach((key, i) => {
    if (order.includes(key)) return;
    const before = theirKeys
      .slice(0, i)
      .reverse()
      .find((k) => order.includes(k));
    order.splice(before === undefined ? 0 : order.indexOf(before) + 1, 0, key);
  });
  for (const key of Object.keys(base)) if (!order.includes(key)) order.push(key);
  const out: { [key: string]: Json } = {};
  for (const key of order) {
    const merged = mergeValue(slot(base, key), slot(ours, key), slot(theirs, key));
    if (merged === undefined) return undefined;
    if (merged !== ABSENT) Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The team's indentation: the first indented line's leading spaces or tab (2 spaces when none). */
function indentOf(text: string): string | number {
  const m = /\n([ \t]+)\S/.exec(text);
  return m ? m[1] : 2;
}

/**
 * The merged text, or undefined when a side is not JSON, the top level is not an object on every side,
 * or one value was changed differently on both sides (a conflict: the line merge marks it).
 */
export function mergeJson(base: string, ours: string, theirs: string): string | undefined {
  // Re-serialising would drop a repeated key (npm's "//" comments) or round a number past 2^53: such a
  // file is merged line by line instead, which keeps every byte the team wrote.
  if (![base, ours, theirs].every(lossless)) return undefined;
  let parsed: Json[];
  try {
    parsed = [base, ours, theirs].map((t) => JSON.parse(t.replace(/^\uFEFF/, "")) as Json);
  } catch {
    return undefined;
  }
  const [b, o, t] = parsed;
  if (!isObject(b) || !isObject(o) || !isObject(t)) return undefined;
  const merged = mergeObjects(b, o, t);
  if (merged === undefined) return undefined;
  // Unchanged from the team's file: its own bytes, whatever their formatting.
  if (equal(merged, o) && Object.keys(merged).join() === Object.keys(o).join()) return ours;
  return `${ours.startsWith("\uFEFF") ? "\uFEFF" : ""}${JSON.stringify(merged, null, indentOf(ours))}${ours.endsWith("\n") ? "\n" : ""}`;
}

/**
 * Whether JSON.parse and JSON.stringify keep everything of `text`: no object repeats a key, and every
 * number reads back as written. Strings are skipped as tokens; anything malformed is left to JSON.parse.
 */
export function lossless(text: string): boolean {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const token = text.slice(i, j + 1);
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        let key: string;
        try {
          key = JSON.parse(token) as string;
        } catch {
          return true;
        }
        if (keys.has(key)) return false;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (m) {
        if (String(JSON.parse(m[0])) !== m[0]) return false;
        i += m[0].length - 1;
      }
    }
  }
  return true;
}
