/**
 * The questions' side effect, injected: the CLI entry passes an inquirer-backed prompter (loaded with
 * a real `import()` there, since @inquirer/prompts is ESM-only); tests pass a scripted one.
 */
export interface InputQuestion {
  readonly message: string;
  readonly default?: string;
  /** Runs as the answer is typed: true, or the message to show. */
  readonly validate?: (value: string) => true | string;
}

export interface ConfirmQuestion {
  readonly message: string;
  readonly default: boolean;
}

export interface SelectQuestion<T extends string> {
  readonly message: string;
  readonly choices: ReadonlyArray<{ readonly name: string; readonly value: T }>;
  readonly default?: T;
}

/** A list to pick from that still takes any typed value (the value is checked by `validate`). */
export interface PickQuestion {
  readonly message: string;
  /** Suggestions, in order. */
  readonly choices: readonly string[];
  readonly default?: string;
  readonly validate?: (value: string) => true | string;
}

export interface Prompter {
  input(question: InputQuestion): Promise<string>;
  /** A picker; without one (scripted prompters) the question is asked as an input. */
  pick?(question: PickQuestion): Promise<string>;
  confirm(question: ConfirmQuestion): Promise<boolean>;
  select<T extends string>(question: SelectQuestion<T>): Promise<T>;
}

/** The subset of @inquirer/prompts the adapter uses. */
export interface InquirerModule {
  input(config: { message: string; default?: string; validate?: (value: string) => boolean | string }): Promise<string>;
  confirm(config: { message: string; default?: boolean }): Promise<boolean>;
  select<T>(config: { message: string; choices: ReadonlyArray<{ name: string; value: T }>; default?: T }): Promise<T>;
  search<T>(config: {
    message: string;
    source: (term: string | undefined) => ReadonlyArray<{ name: string; value: T }>;
    default?: T;
    validate?: (value: T) => boolean | string;
  }): Promise<T>;
}

/**
 * The picker's list for what is typed so far: the suggestions that contain it, and first, when it is
 * none of them, the typed value itself (so a region or instance type the list lacks can still be given).
 */
export function pickChoices(question: PickQuestion, term: string | undefined): Array<{ name: string; value: string }> {
  const typed = (term ?? "").trim();
  const all = question.default && !question.choices.includes(question.default) ? [question.default, ...question.choices] : question.choices;
  const matches = all.filter((c) => c.includes(typed)).map((c) => ({ name: c, value: c }));
  return typed !== "" && !all.includes(typed) ? [{ name: `${typed} (as typed)`, value: typed }, ...matches] : matches;
}

/** Adapts @inquirer/prompts to Prompter. Ctrl-C makes inquirer reject with an ExitPromptError. */
export function inquirerPrompter(inquirer: InquirerModule): Prompter {
  // Backspace on an empty line makes @inquirer/input forget its default (dist/index.js:
  // `isBackspaceKey(key) && !value` -> `setDefaultValue('')`): an empty answer then means the default again.
  const orDefault = (value: string, fallback: string | undefined): string => (value === "" && fallback ? fallback : value);
  return {
    input: async (q) =>
      orDefault(
        await inquirer.input({
          message: q.message,
          default: q.default,
          validate: q.validate ? (v) => q.validate!(orDefault(v, q.default)) : undefined,
        }),
        q.default,
      ),
    pick: (q) =>
      inquirer.search<string>({ message: q.message, default: q.default, source: (term) => pickChoices(q, term), validate: q.validate }),
    confirm: (q) => inquirer.confirm({ message: q.message, default: q.default }),
    select: <T extends string>(q: SelectQuestion<T>) =>
      inquirer.select<T>({ message: q.message, choices: q.choices.map((c) => ({ name: c.name, value: c.value })), default: q.default }),
  };
}

/** True when `error` is inquirer's reaction to Ctrl-C. */
export function isPromptExit(error: unknown): boolean {
  return error instanceof Error && error.name === "ExitPromptError";
}
