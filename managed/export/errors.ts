/** What went wrong, and so which exit code: a usage or conflict problem is the user's to fix (2). */
export type ExportErrorCategory = "usage" | "config" | "conflict" | "external" | "internal";

export class ExportError extends Error {
  constructor(
    readonly category: ExportErrorCategory,
    message: string,
  ) {
    super(message);
    this.name = "ExportError";
  }

  get exitCode(): number {
    return this.category === "external" || this.category === "internal" ? 1 : 2;
  }
}
