/** Project configurations for the scaling benchmark. Pure. */

/** Environment names for n stacks: env-01, env-02, ... (short enough for every AWS name limit). */
export function environmentNames(n: number): string[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`environmentNames: n must be a positive integer, got ${n}`);
  const width = Math.max(2, String(n).length);
  return Array.from({ length: n }, (_, i) => `env-${String(i + 1).padStart(width, "0")}`);
}

/**
 * The base configuration with exactly `n` environments, each a copy of the base's first environment
 * under a new name, so every added stack has the same resources. Other fields are kept as they are.
 */
export function configWithStacks(base: Readonly<Record<string, unknown>>, n: number): Record<string, unknown> {
  const list = Array.isArray(base.environments) ? (base.environments as unknown[]) : [];
  const first = list[0];
  const template: Record<string, unknown> =
    first !== null && typeof first === "object" && !Array.isArray(first) ? { ...(first as Record<string, unknown>) } : {};
  return {
    ...structuredClone(base),
    environments: environmentNames(n).map((name) => ({ ...structuredClone(template), name })),
  };
}
