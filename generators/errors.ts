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

/** The user pressed Ctrl-C at a prompt or during the run. */
export class CancelledError extends Error {
  constructor() {
    super("cancelled");
    this.name = "CancelledError";
  }
}
