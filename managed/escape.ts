/**
 * The one escaper for user strings that land in Terraform JSON.
 *
 * Terraform reads every JSON string as a template: `${...}` is an interpolation and `%{...}` a
 * directive. `$${` and `%%{` are the documented escapes for the literal sequences. A lone `$` or `%`
 * is already literal and must stay as it is.
 */
export function escapeTfString(value: string): string {
  // A function replacement: in a replacement string "$$" would itself mean a single "$".
  return value.replace(/\$\{|%\{/g, (match) => match[0] + match);
}

/** The literal that Terraform reads from an escaped string: the inverse of escapeTfString. */
export function unescapeTfString(value: string): string {
  return value.replace(/\$\$\{|%%\{/g, (match) => match.slice(1));
}

/** Escapes every string value (not keys) of a string map for Terraform JSON. */
export function escapeTfStringMap(values: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(values).sort()) {
    out[escapeTfString(key)] = escapeTfString(values[key]);
  }
  return out;
}
