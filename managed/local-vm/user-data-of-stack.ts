/**
 * The user data an environment's launch template sends, read from the synthesized stack
 * (cdktf.out/stacks/<env>/cdk.tf.json): the stack writes it as `${base64encode("<HCL string>")}`, so
 * the bytes are that string with HCL's escapes undone. Anything else there (an interpolation, another
 * function) is refused rather than guessed: the local boot must get exactly what AWS would get.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LocalVmError } from "./tools";

/** Undoes the escapes of an HCL quoted template without interpolations (hclsyntax's string literal rules). */
export function decodeHclString(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if ((c === "$" || c === "%") && body[i + 1] === "{") throw new Error(`an interpolation or directive at offset ${i}`);
    if ((c === "$" || c === "%") && body[i + 1] === c && body[i + 2] === "{") {
      out += `${c}{`;
      i += 2;
      continue;
    }
    if (c === '"') throw new Error(`an unescaped quote at offset ${i}`);
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = body[++i];
    const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
    if (next in simple) out += simple[next];
    else if (next === "u" || next === "U") {
      const len = next === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== len) throw new Error(`a bad \\${next} escape at offset ${i}`);
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += len;
    } else throw new Error(`an unknown escape \\${next} at offset ${i}`);
  }
  return out;
}

/** The launch template's user data of `environment`, from `<projectDir>/cdktf.out`. */
export function userDataOfStack(projectDir: string, environment: string): string {
  const file = join(projectDir, "cdktf.out", "stacks", environment, "cdk.tf.json");
  if (!existsSync(file))
    throw new LocalVmError(`${file} not found: run npm run synth first (the preview boots with the user data of the synthesized stack)`);
  const stack = JSON.parse(readFileSync(file, "utf8"));
  const templates = Object.values<any>(stack.resource?.aws_launch_template ?? {});
  if (templates.length !== 1) throw new LocalVmError(`${file} has ${templates.length} launch templates, expected one`);
  const expression: unknown = templates[0].user_data;
  const match = typeof expression === "string" ? /^\$\{base64encode\("([\s\S]*)"\)\}$/.exec(expression) : null;
  if (!match) throw new LocalVmError(`the user_data of ${file} is not \${base64encode("...")}: cannot read it without Terraform`);
  try {
    return decodeHclString(match[1]);
  } catch (error) {
    throw new LocalVmError(`the user_data of ${file} has ${(error as Error).message}: cannot read it without Terraform`);
  }
}
