/**
 * Reads an untrusted JSON value field by field, collecting every problem with the path of its field
 * instead of stopping at the first. Generic: the configuration rules live in config-validation.ts.
 */

export interface ConfigProblem {
  /** The field, as a path into the config: `network.cidr`, `environments[0].name`. */
  readonly field: string;
  readonly message: string;
}

/** Thrown by resolveConfig with every problem found. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.field}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export type Json = unknown;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Collects problems while reading fields of an untrusted object. */
export class Reader {
  readonly problems: ConfigProblem[] = [];

  fail(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  object(field: string, value: Json, known: readonly string[]): Record<string, Json> | undefined {
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) {
      this.fail(field, `must be an object, got ${describe(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        const hint = known.find((k) => k.toLowerCase() === key.toLowerCase());
        this.fail(join(field, key), `is not a known field${hint ? ` (did you mean "${hint}"?)` : ""}; known: ${known.join(", ")}`);
      }
    }
    return value;
  }

  string(field: string, value: Json, fallback?: string): string | undefined {
    if (value === undefined) return fallback;
    if (typeof value !== "string") {
      this.fail(field, `must be a string, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  matching(field: string, value: Json, pattern: RegExp, expected: string, fallback?: string): string | undefined {
    const text = this.string(field, value, fallback);
    if (text === undefined) return undefined;
    if (!pattern.test(text)) {
      this.fail(field, `${quote(text)} is not ${expected}`);
    }
    return text;
  }

  integer(field: string, value: Json, min: number, max: number, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      this.fail(field, `must be a whole number from ${min} to ${max}, got ${describe(value)}`);
      return fallback;
    }
    if (value < min || value > max) {
      this.fail(field, `must be from ${min} to ${max}, got ${value}`);
    }
    return value;
  }

  boolean(field: string, value: Json, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") {
      this.fail(field, `must be true or false, got ${describe(value)}`);
      return fallback;
    }
    return value;
  }

  oneOf<T extends string>(field: string, value: Json, options: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (typeof value !== "string" || !(options as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${options.map((o) => `"${o}"`).join(", ")}, got ${describe(value)}`);
      return fallback;
    }
    return value as T;
  }

  array(field: string, value: Json, max: number): Json[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.fail(field, `must be a list, got ${describe(value)}`);
      return undefined;
    }
    if (value.length > max) this.fail(field, `has ${value.length} entries; at most ${max} are allowed`);
    return value.slice(0, max);
  }

  /** A string map whose keys match `keyPattern`; values are checked by `checkValue`. */
  map(
    field: string,
    value: Json,
    keyPattern: RegExp,
    keyExpected: string,
    checkValue: (field: string, value: string) => void,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    if (value === undefined) return out;
    if (!isPlainObject(value)) {
      this.fail(field, `must be an object of strings, got ${describe(value)}`);
      return out;
    }
    for (const key of Object.keys(value)) {
      const path = join(field, key);
      if (FORBIDDEN_KEYS.has(key)) {
        this.fail(path, `"${key}" is not allowed as a key`);
        continue;
      }
      if (key === "//") {
        // Valid for AWS, but the comment key of Terraform JSON: the export (and other tools) drop it.
        this.fail(path, `"//" is not allowed as a key (Terraform JSON reads it as a comment)`);
        continue;
      }
      if (!keyPattern.test(key)) {
        this.fail(path, `key ${quote(key)} is not ${keyExpected}`);
        continue;
      }
      const v = value[key];
      if (typeof v !== "string") {
        this.fail(path, `must be a string, got ${describe(v)}`);
        continue;
      }
      checkValue(path, v);
      // Terraform reads every string literal as Unicode NFC; normalizing here keeps config and plan equal.
      Object.defineProperty(out, key, { value: v.normalize("NFC"), enumerable: true, writable: false });
    }
    return out;
  }
}

export function isPlainObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function describe(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return quote(value);
  return `${typeof value} ${String(value)}`;
}

/** Quotes a user value for a message, showing control characters instead of printing them. */
export function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  // JSON.stringify escapes C0 controls only: DEL, C1 controls and bidi overrides would print raw.
  return JSON.stringify(shown).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function join(parent: string, key: string): string {
  if (parent === "") return key;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}
