/**
 * Colour, only where the terminal allows it: never when NO_COLOR is set to anything non-empty
 * (https://no-color.org), always when FORCE_COLOR is set (except FORCE_COLOR=0 or false), otherwise
 * only on a TTY whose TERM is not "dumb". Plain ANSI codes: no dependency for three styles.
 */

export interface Palette {
  readonly enabled: boolean;
  readonly red: (text: string) => string;
  readonly bold: (text: string) => string;
  readonly cyan: (text: string) => string;
}

export function colourEnabled(env: Readonly<Record<string, string | undefined>>, isTTY: boolean | undefined): boolean {
  if ((env.NO_COLOR ?? "") !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !["0", "false"].includes(force.trim().toLowerCase());
  return isTTY === true && env.TERM !== "dumb";
}

const style =
  (open: number, close: number) =>
  (text: string): string =>
    // Per line: a style that spans a newline bleeds into whatever the terminal prints next to it.
    text
      .split("\n")
      .map((line) => (line === "" ? line : `\u001b[${open}m${line}\u001b[${close}m`))
      .join("\n");

const plain = (text: string): string => text;

export function palette(enabled: boolean): Palette {
  return enabled
    ? { enabled, red: style(31, 39), bold: style(1, 22), cyan: style(36, 39) }
    : { enabled, red: plain, bold: plain, cyan: plain };
}

/** Removes what palette() adds (for measuring the visible width of a line). */
export function stripColour(text: string): string {
  return text.replace(/\u001b\[\d+m/g, "");
}
