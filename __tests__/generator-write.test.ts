/** file map -> disk: refuse conflicts, never delete, no symlinks, read-only targets, stale temp dirs. */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GeneratorError, UsageError } from "../generators/errors";
import type { FileMap } from "../generators/render";
import { checkRelativePath, checkTarget, planWrite, sweepStaleTemps, writeFiles } from "../generators/write";
import { tempDir } from "./support/terraform";
import { treeSnapshot } from "./support/cli";

const files: FileMap = new Map([
  ["README.md", { contents: "# new\n" }],
  ["package.json", { contents: "{}\n" }],
  ["stacks/app.ts", { contents: "export {};\n" }],
  ["bin/run.sh", { contents: "#!/bin/sh\n", executable: true }],
]);

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("nothing thrown");
}

describe("writeFiles", () => {
  let root: string;
  beforeEach(() => {
    root = tempDir("cia-write");
  });

  it("creates a new target with one rename, leaving no temp directory", () => {
    const target = join(root, "nested", "app");
    const steps: string[] = [];
    const result = writeFiles(target, files, { force: false, onStep: (s) => steps.push(s) });
    expect(result.mode).toBe("new");
    expect(treeSnapshot(target)).toEqual(expect.objectContaining({ "README.md": expect.any(String), "stacks/app.ts": expect.any(String) }));
    expect(readdirSync(join(root, "nested"))).toEqual(["app"]);
    expect(steps).toEqual([
      "temp-created",
      "file-written:1",
      "file-written:2",
      "file-written:3",
      "file-written:4",
      "files-written",
      "moved",
    ]);
    expect(readFileSync(join(target, "bin", "run.sh"), "utf8")).toBe("#!/bin/sh\n");
  });

  it("fills an existing empty directory (or one holding only .git)", () => {
    const empty = join(root, "empty");
    mkdirSync(empty);
    expect(writeFiles(empty, files, { force: false }).mode).toBe("empty");
    const gitOnly = join(root, "git-only");
    mkdirSync(join(gitOnly, ".git"), { recursive: true });
    writeFileSync(join(gitOnly, ".git", "HEAD"), "ref: refs/heads/main\n");
    writeFiles(gitOnly, files, { force: false });
    expect(readFileSync(join(gitOnly, ".git", "HEAD"), "utf8")).toBe("ref: refs/heads/main\n");
    expect(existsSync(join(gitOnly, "stacks", "app.ts"))).toBe(true);
    expect(readdirSync(root).filter((n) => n.includes("create-immutable-app"))).toEqual([]);
  });

  it("refuses a non-empty target, listing the conflicts, and writes nothing", () => {
    const target = join(root, "busy");
    mkdirSync(target);
    writeFileSync(join(target, "README.md"), "mine\n");
    writeFileSync(join(target, "notes.txt"), "keep\n");
    const before = treeSnapshot(root);
    const error = thrown(() => writeFiles(target, files, { force: false }));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/^\[dir\]: .* is not empty; nothing was written/);
    expect(error.message).toMatch(/1 file\(s\) would be replaced:\n\s+README\.md/);
    expect(error.message).toMatch(/also contains: notes\.txt/);
    expect(treeSnapshot(root)).toEqual(before);
  });

  it("with force writes beside existing files, never deletes one, and reports each replaced file", () => {
    const target = join(root, "busy");
    mkdirSync(join(target, "stacks"), { recursive: true });
    writeFileSync(join(target, "README.md"), "mine\n");
    writeFileSync(join(target, "stacks", "app.ts"), "old\n");
    writeFileSync(join(target, "stacks", "mine.ts"), "keep\n");
    const result = writeFiles(target, files, { force: true });
    expect(result.mode).toBe("merge");
    expect(result.replaced).toEqual(["README.md", "stacks/app.ts"]);
    expect(readFileSync(join(target, "stacks", "mine.ts"), "utf8")).toBe("keep\n");
    expect(readFileSync(join(target, "README.md"), "utf8")).toBe("# new\n");
    expect(readdirSync(root)).toEqual(["busy"]);
  });

  it("with force keeps each replaced file's old contents as <file>.orig, never overwriting an earlier backup", () => {
    const target = join(root, "busy");
    mkdirSync(join(target, "stacks"), { recursive: true });
    writeFileSync(join(target, "README.md"), "mine\n");
    writeFileSync(join(target, "README.md.orig"), "older backup\n");
    writeFileSync(join(target, "README.md.orig.1"), "even older\n");
    writeFileSync(join(target, "stacks", "app.ts"), "old\n");
    writeFileSync(join(target, "package.json"), "{}\n"); // same contents as the map: nothing to keep
    const steps: string[] = [];
    const result = writeFiles(target, files, { force: true, onStep: (s) => steps.push(s) });
    expect(result.replaced).toEqual(["README.md", "package.json", "stacks/app.ts"]);
    expect([...result.backups]).toEqual([
      ["README.md", "README.md.orig.2"],
      ["stacks/app.ts", "stacks/app.ts.orig"],
    ]);
    expect(readFileSync(join(target, "README.md.orig.2"), "utf8")).toBe("mine\n");
    expect(readFileSync(join(target, "README.md.orig"), "utf8")).toBe("older backup\n");
    expect(readFileSync(join(target, "README.md.orig.1"), "utf8")).toBe("even older\n");
    expect(readFileSync(join(target, "stacks", "app.ts.orig"), "utf8")).toBe("old\n");
    expect(readFileSync(join(target, "README.md"), "utf8")).toBe("# new\n");
    expect(existsSync(join(target, "package.json.orig"))).toBe(false);
    expect(steps.indexOf("backups-made")).toBeLessThan(steps.indexOf("file-moved:1"));

    // A second forced run keeps the first run's backups and adds new ones only for changed files.
    writeFileSync(join(target, "README.md"), "edited again\n");
    const again = writeFiles(target, files, { force: true });
    expect([...again.backups]).toEqual([["README.md", "README.md.orig.3"]]);
    expect(readFileSync(join(target, "README.md.orig.2"), "utf8")).toBe("mine\n");
    expect(readFileSync(join(target, "README.md.orig.3"), "utf8")).toBe("edited again\n");
  });

  it("plans backups without writing them (what --dry-run shows)", () => {
    const target = join(root, "busy");
    mkdirSync(target);
    writeFileSync(join(target, "README.md"), "mine\n");
    const before = treeSnapshot(root);
    expect([...planWrite(target, files, true).backups]).toEqual([["README.md", "README.md.orig"]]);
    expect(treeSnapshot(root)).toEqual(before);
  });

  it("refuses a target that is a symlink", () => {
    const real = join(root, "real");
    mkdirSync(real);
    symlinkSync(real, join(root, "link"));
    const error = thrown(() => writeFiles(join(root, "link"), files, { force: true }));
    expect(error.message).toMatch(/^\[dir\]: .*link is a symbolic link/);
    expect(readdirSync(real)).toEqual([]);
  });

  it("refuses, even with force, a path that would pass through a symlink out of the target", () => {
    const outside = join(root, "outside");
    mkdirSync(outside);
    const target = join(root, "app");
    mkdirSync(target);
    symlinkSync(outside, join(target, "stacks"));
    const before = treeSnapshot(root);
    const many: FileMap = new Map([...files, ...["a", "b", "c"].map((n) => [`stacks/${n}.ts`, { contents: "" }] as const)]);
    const error = thrown(() => writeFiles(target, many, { force: true }));
    expect(error.message).toMatch(/stacks is a symbolic link/);
    // Reported once for the path, not once per file below it.
    expect(error.message.match(/symbolic link/g)).toHaveLength(1);
    expect(treeSnapshot(root)).toEqual(before);
  });

  it("refuses a file where the project needs a directory", () => {
    const target = join(root, "app");
    mkdirSync(target);
    writeFileSync(join(target, "stacks"), "a file\n");
    const many: FileMap = new Map([...files, ["stacks/b.ts", { contents: "" }]]);
    const message = thrown(() => writeFiles(target, many, { force: true })).message;
    expect(message).toMatch(/stacks is a file where the project needs a directory/);
    expect(message.match(/needs a directory/g)).toHaveLength(1);
  });

  it("gives a clear error for a read-only target or parent, writing nothing", () => {
    const target = join(root, "ro");
    mkdirSync(target);
    chmodSync(target, 0o555);
    try {
      const error = thrown(() => writeFiles(target, files, { force: false }));
      expect(error).toBeInstanceOf(GeneratorError);
      expect((error as GeneratorError).category).toBe("external");
      expect(error.message).toMatch(/is read-only \(mode 555\); nothing was written/);
      const nested = thrown(() => writeFiles(join(target, "app"), files, { force: false }));
      expect(nested.message).toMatch(/cannot create .*ro.*app: .*ro is read-only/);
    } finally {
      chmodSync(target, 0o755);
    }
    expect(readdirSync(target)).toEqual([]);
  });

  it("removes temp directories of killed runs (dead pid), and only those", () => {
    const target = join(root, "app");
    mkdirSync(join(root, ".app.create-immutable-app-999999999-abcdef", "stacks"), { recursive: true });
    mkdirSync(join(root, `.app.create-immutable-app-${process.pid}-abcdef`));
    mkdirSync(join(root, ".app.mine"));
    expect(sweepStaleTemps(target)).toEqual([join(root, ".app.create-immutable-app-999999999-abcdef")]);
    expect(readdirSync(root).sort()).toEqual([`.app.create-immutable-app-${process.pid}-abcdef`, ".app.mine"]);
  });

  it.each(["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "C:/x", "a\u0000b", "a/./b"])(
    "refuses to write the path %j",
    (path) => {
      expect(() => checkRelativePath(path)).toThrow(/refusing to write/);
      expect(() => planWrite(join(root, "x"), new Map([[path, { contents: "" }]]), false)).toThrow(/refusing to write/);
    },
  );
});

/** The target check the CLI runs before the first question: planWrite's rules that need no file map. */
describe("checkTarget", () => {
  let root: string;
  beforeEach(() => {
    root = tempDir("cia-target");
  });

  it("accepts a new directory, an empty one, one holding only .git, and a non-empty one with --force", () => {
    mkdirSync(join(root, "empty"));
    mkdirSync(join(root, "git-only", ".git"), { recursive: true });
    mkdirSync(join(root, "busy"));
    writeFileSync(join(root, "busy", "notes.txt"), "keep\n");
    const before = treeSnapshot(root);
    for (const dir of ["new", "deep/er/new", "empty", "git-only"]) expect(() => checkTarget(join(root, dir), false)).not.toThrow();
    expect(() => checkTarget(join(root, "busy"), true)).not.toThrow();
    expect(treeSnapshot(root)).toEqual(before);
  });

  it("refuses what the write step refuses, with the same messages", () => {
    mkdirSync(join(root, "busy"));
    writeFileSync(join(root, "busy", "README.md"), "mine\n");
    writeFileSync(join(root, "file.txt"), "x\n");
    mkdirSync(join(root, "real"));
    symlinkSync(join(root, "real"), join(root, "link"));
    const before = treeSnapshot(root);
    const busy = thrown(() => checkTarget(join(root, "busy"), false));
    expect(busy).toBeInstanceOf(UsageError);
    expect(busy.message).toMatch(
      /^\[dir\]: .*busy is not empty; nothing was written\.\n {2}it contains: README\.md\n {2}Choose a new or empty directory, or pass --force/,
    );
    expect(thrown(() => planWrite(join(root, "busy"), files, false)).message).toMatch(/busy is not empty; nothing was written/);
    expect(thrown(() => checkTarget(join(root, "file.txt"), true)).message).toMatch(/^\[dir\]: .*file\.txt exists and is not a directory$/);
    expect(thrown(() => checkTarget(join(root, "file.txt", "app"), false)).message).toMatch(
      /^\[dir\]: cannot create .*app: .*file\.txt is a file, not a directory$/,
    );
    expect(thrown(() => checkTarget(join(root, "link"), true)).message).toMatch(/^\[dir\]: .*link is a symbolic link/);
    expect(treeSnapshot(root)).toEqual(before);
  });

  it("refuses a read-only target or parent as a failure of the machine (exit 1), not of usage", () => {
    const ro = join(root, "ro");
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    try {
      for (const dir of [ro, join(ro, "app")]) {
        const error = thrown(() => checkTarget(dir, false)) as GeneratorError;
        expect(error.category).toBe("external");
        expect(error.message).toMatch(/read-only/);
      }
    } finally {
      chmodSync(ro, 0o755);
    }
  });

  it("names a dozen entries of a crowded directory and counts the rest", () => {
    const crowded = join(root, "home");
    mkdirSync(crowded);
    for (let i = 0; i < 30; i++) writeFileSync(join(crowded, `f${String(i).padStart(2, "0")}`), "");
    const message = thrown(() => checkTarget(crowded, false)).message;
    expect(message).toMatch(/it contains: f00, f01, .*f11, and 18 more\n/);
  });
});
