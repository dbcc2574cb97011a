/**
 * Typed errors of the generator. The category decides the exit code (only bin/ calls process.exit):
 * usage = the user asked for something impossible (exit 2, the message names the flag or argument);
 * external = the machine refused (read-only disk, a failing tool; exit 1); internal = a bug (exit 70).
 */
export type ErrorCategory = "usage" | "external" | "internal";

export const EXIT_CODES: Readonly<Record<ErrorCategory, number>> = { usage: 2, external: 1, internal: 70 };

/** Exit code of `upgrade` when files were written with conflicts to resolve (or would be, with --dry-run). */
export const EXIT_CONFLICTS = 3;

/** Exit code after Ctrl-C (128 + SIGINT). */
export const EXIT_CANCELLED = 130;

export class GeneratorError extends Error {
  constructor(
    readonly category: ErrorCategory,
    message: string,
  ) {
    super(message);
    this.name = "GeneratorError";
  }

  get exitCode(): number {
    return EXIT_CODES[this.category];
  }
}

/** A usage error always names what was wrong: a flag (`--port`), the `[dir]` argument or a config field. */
export class UsageError extends GeneratorError {
  constructor(
    readonly subject: string,
    message: string,
  ) {
    super("usage", `${subject}: ${message}`);
    this.name = "UsageError";
  }
}

/** Several usage problems reported at once (every bad answer, not only the first). */
export class UsageProblems extends GeneratorError {
  /** @param heading what was invalid (@default "invalid answers") */
  constructor(
    readonly problems: ReadonlyArray<{ readonly subject: string; readonly message: string }>,
    heading = "invalid answers",
  ) {
    super(
      "usage",
      `${heading} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.subject}: ${p.message}`).join("\n"),
    );
    this.name = "UsageProblems";
  }
}

/** What a write that failed partway had changed in the target. */
export interface PartialWrite {
  /** Files in place, in the order they were moved. */
  readonly moved: readonly string[];
  readonly notMoved: readonly string[];
  /** Backups made (`<file>.orig`). */
  readonly backups: readonly string[];
  /** `old -> new` renames of obsolete files. */
  readonly movedAside: readonly string[];
  /** The journal left in the target (upgrade's record of the unfinished write), if any. */
  readonly journal?: string;
}

/** A disk failure after the first change to the target: says exactly what was written and what was not. */
export class PartialWriteError extends GeneratorError {
  constructor(
    readonly targetDir: string,
    reason: string,
    readonly partial: PartialWrite,
  ) {
    const list = (paths: readonly string[]): string =>
      paths.length > 10 ? `${paths.slice(0, 10).join(", ")} and ${paths.length - 10} more` : paths.join(", ");
    const n = partial.moved.length + partial.notMoved.length;
    super(
      "external",
      [
        `${reason}; the write stopped partway:`,
        `  written: ${partial.moved.length} of ${n} files${partial.moved.length > 0 ? ` (${list(partial.moved)})` : ""}`,
        ...(partial.backups.length > 0 ? [`  backups made: ${list(partial.backups)}`] : []),
        ...(partial.movedAside.length > 0 ? [`  moved aside: ${list(partial.movedAside)}`] : []),
        `  not written: ${partial.notMoved.length > 0 ? list(partial.notMoved) : "none"}`,
        ...(partial.journal
          ? [`  ${partial.journal} records the unfinished write: fix the cause, then run the same command again to finish it`]
          : []),
      ].join("\n"),
    );
    this.name = "PartialWriteError";
  }
}

/** The user pressed Ctrl-C at a prompt or during the run. */
export class CancelledError extends Error {
  constructor() {
    super("cancelled");
    this.name = "CancelledError";
  }
}
