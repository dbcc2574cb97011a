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

export interface Prompter {
  input(question: InputQuestion): Promise<string>;
  confirm(question: ConfirmQuestion): Promise<boolean>;
  select<T extends string>(question: SelectQuestion<T>): Promise<T>;
}

/** The subset of @inquirer/prompts the adapter uses. */
export interface InquirerModule {
  input(config: { message: string; default?: string; validate?: (value: string) => boolean | string }): Promise<string>;
  confirm(config: { message: string; default?: boolean }): Promise<boolean>;
  select<T>(config: { message: string; choices: ReadonlyArray<{ name: string; value: T }>; default?: T }): Promise<T>;
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
    confirm: (q) => inquirer.confirm({ message: q.message, default: q.default }),
    select: <T extends string>(q: SelectQuestion<T>) =>
      inquirer.select<T>({ message: q.message, choices: q.choices.map((c) => ({ name: c.name, value: c.value })), default: q.default }),
  };
}

/** True when `error` is inquirer's reaction to Ctrl-C. */
export function isPromptExit(error: unknown): boolean {
  return error instanceof Error && error.name === "ExitPromptError";
}
