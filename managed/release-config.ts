/**
 * The release settings of one environment (how a refresh is paced and watched, how instances join and
 * what they cost), read from immutable.config.json and checked against AWS's rules (aws-rules.ts),
 * including the one that makes a rollback possible in time: every rollout alarm can act within the
 * checkpoint delay and within the bake time, because AWS cannot roll back a refresh that has finished
 * ("You can't roll it back after it's finished", User Guide, instance-refresh-rollback.html).
 */
import {
  ALARM_TIMING,
  alarmReactionSeconds,
  BURSTABLE_BASELINE_PERCENT,
  isBurstable,
  oneInstanceCheckpoint,
  REFRESH_LIMITS,
  refreshPreferenceProblems,
} from "./aws-rules";
import { DEFAULTS, type EnvironmentConfig, type WarmPoolConfig } from "./config";
import { describe, type Json, type Reader } from "./json-reader";

/** The fields of an environment that this module reads. */
export const RELEASE_FIELDS = [
  "checkpointPercentages",
  "checkpointDelaySeconds",
  "bakeTimeSeconds",
  "rollbackErrorRatePercent",
  "rollbackMinRequestsPerMinute",
  "rollbackLatencyMs",
  "rollbackUnhealthyMinutes",
  "probeRequestsPerSecond",
  "bootTimeoutSeconds",
  "expectedBootSeconds",
  "slowStartSeconds",
  "cpuCredits",
  "requestsPerTarget",
  "warmPool",
] as const;

/** Fields earlier versions had, with what replaced them: refused with that advice, never ignored. */
export const RETIRED_FIELDS: Readonly<Record<string, string>> = {
  rollback5xxPerMinute:
    "was replaced by rollbackErrorRatePercent (a share of all requests, load balancer and target 5xx together): a fixed count never trips in a quiet environment and trips on noise in a busy one",
};

/**
 * The datapoints an alarm needs before ALARM, per rollout alarm (stacks/rollout-alarms.ts builds the
 * alarms from the same numbers, so the rule below checks what is deployed).
 */
export function rolloutAlarmDatapoints(env: Pick<EnvironmentConfig, "rollbackUnhealthyMinutes">): Readonly<Record<string, number>> {
  return { "error rate": 2, latency: 2, unhealthy: env.rollbackUnhealthyMinutes, "boot failures": 1 };
}

export type ReleaseSettings = Pick<EnvironmentConfig, (typeof RELEASE_FIELDS)[number] | "canaryOneInstance">;

export function readReleaseSettings(
  r: Reader,
  field: string,
  o: Record<string, Json>,
  context: {
    readonly production: boolean;
    readonly desiredCapacity: number;
    readonly maxCapacity: number;
    readonly instanceType: string;
    readonly cpuTargetPercent: number;
  },
): ReleaseSettings {
  const d = DEFAULTS.environment;
  const int = (name: (typeof RELEASE_FIELDS)[number], min: number, max: number, fallback: number) =>
    r.integer(`${field}.${name}`, o[name], min, max, fallback);
  for (const [name, advice] of Object.entries(RETIRED_FIELDS)) if (o[name] !== undefined) r.fail(`${field}.${name}`, advice);

  const canaryOneInstance = o.checkpointPercentages === undefined;
  const checkpointPercentages = canaryOneInstance
    ? defaultCheckpoints(context.desiredCapacity)
    : readCheckpoints(r, `${field}.checkpointPercentages`, o.checkpointPercentages);
  const checkpointDelaySeconds = int(
    "checkpointDelaySeconds",
    0,
    REFRESH_LIMITS.checkpointDelayMax,
    context.production ? DEFAULTS.checkpointDelaySeconds.production : DEFAULTS.checkpointDelaySeconds.default,
  );
  const bakeTimeSeconds = int(
    "bakeTimeSeconds",
    0,
    REFRESH_LIMITS.bakeTimeMax,
    context.production ? DEFAULTS.bakeTimeSeconds.production : DEFAULTS.bakeTimeSeconds.default,
  );
  for (const problem of refreshPreferenceProblems({
    CheckpointPercentages: checkpointPercentages,
    CheckpointDelay: checkpointDelaySeconds,
    BakeTime: bakeTimeSeconds,
  })) {
    r.fail(`${field}.checkpointPercentages`, `${problem} (AWS's instance refresh rule)`);
  }
  const slowStartSeconds = int("slowStartSeconds", 0, 900, d.slowStartSeconds);
  // aws_lb_target_group slow_start: 30 to 900 seconds, or 0 for none (ELBv2 API, TargetGroupAttribute
  // slow_start.duration_seconds: "The range is 30-900 seconds (15 minutes). The default is 0 seconds (disabled)").
  if (slowStartSeconds > 0 && slowStartSeconds < 30)
    r.fail(`${field}.slowStartSeconds`, `is ${slowStartSeconds}; use 0 (off) or 30 to 900`);
  const rollbackUnhealthyMinutes = int("rollbackUnhealthyMinutes", 1, 60, d.rollbackUnhealthyMinutes);
  // Every alarm must be able to go to ALARM while AWS can still roll back: within each checkpoint's
  // delay (before the next batch) and within the bake time (before the refresh has finished). With slow
  // start a new instance takes its full share of requests only after slowStartSeconds.
  const reactions = Object.entries(rolloutAlarmDatapoints({ rollbackUnhealthyMinutes })).map(
    ([alarm, datapoints]) => [alarm, alarmReactionSeconds(datapoints)] as const,
  );
  const slowest = reactions.reduce((a, b) => (b[1] > a[1] ? b : a));
  const needed = slowest[1] + slowStartSeconds;
  const why = `${alarmWindowText(slowest[1])}${slowStartSeconds ? `, after the ${slowStartSeconds} s slow start` : ""}`;
  if (checkpointPercentages.length > 1 && checkpointDelaySeconds < needed) {
    r.fail(
      `${field}.checkpointDelaySeconds`,
      `is ${checkpointDelaySeconds} s, but the ${slowest[0]} alarm needs up to ${needed} s to act (${why}): the next batch would start before it could stop this one; use at least ${needed}`,
    );
  }
  if (bakeTimeSeconds < needed) {
    r.fail(
      `${field}.bakeTimeSeconds`,
      `is ${bakeTimeSeconds} s, but the ${slowest[0]} alarm needs up to ${needed} s to act (${why}): the refresh would finish, and AWS can no longer roll it back, before the alarm could fire; use at least ${needed}`,
    );
  }
  const bootTimeoutSeconds = int("bootTimeoutSeconds", 30, 7200, d.bootTimeoutSeconds);
  const expectedBootSeconds = int("expectedBootSeconds", 1, 7200, d.expectedBootSeconds);
  if (expectedBootSeconds >= bootTimeoutSeconds) {
    r.fail(
      `${field}.expectedBootSeconds`,
      `is ${expectedBootSeconds}, not less than bootTimeoutSeconds ${bootTimeoutSeconds}: every instance would be abandoned before its app answers`,
    );
  }

  let cpuCredits: EnvironmentConfig["cpuCredits"];
  if (isBurstable(context.instanceType)) {
    cpuCredits = r.oneOf(`${field}.cpuCredits`, o.cpuCredits, ["standard", "unlimited"] as const, "unlimited");
  } else if (o.cpuCredits !== undefined) {
    r.fail(`${field}.cpuCredits`, `applies only to burstable instance types (t3, t3a, t4g); ${context.instanceType} is not one`);
  }
  const baseline = BURSTABLE_BASELINE_PERCENT[context.instanceType];
  if (cpuCredits === "standard" && baseline !== undefined && context.cpuTargetPercent >= baseline && o.requestsPerTarget === undefined) {
    // Standard mode: an instance whose credits are spent "can only perform at its baseline" (EC2 User
    // Guide, burstable-performance-instances-standard-mode-concepts.html), so its CPU never goes above
    // the baseline and target tracking at or above it would never add an instance.
    r.fail(
      `${field}.cpuTargetPercent`,
      `is ${context.cpuTargetPercent}, not below the ${baseline} % baseline of ${context.instanceType} with standard CPU credits: once its credits are spent the instance is held at its baseline, its CPU never passes the target and the group never scales out; use less than ${baseline}, cpuCredits "unlimited" (the default), requestsPerTarget, or a non-burstable type`,
    );
  }
  const requestsPerTarget = o.requestsPerTarget === undefined ? undefined : int("requestsPerTarget", 1, 1_000_000, 1);
  return {
    checkpointPercentages,
    canaryOneInstance,
    checkpointDelaySeconds,
    bakeTimeSeconds,
    rollbackErrorRatePercent: int("rollbackErrorRatePercent", 1, 100, d.rollbackErrorRatePercent),
    rollbackMinRequestsPerMinute: int("rollbackMinRequestsPerMinute", 1, 1_000_000, d.rollbackMinRequestsPerMinute),
    rollbackLatencyMs: int("rollbackLatencyMs", 10, 600_000, d.rollbackLatencyMs),
    rollbackUnhealthyMinutes,
    probeRequestsPerSecond: int("probeRequestsPerSecond", 0, 20, d.probeRequestsPerSecond),
    bootTimeoutSeconds,
    expectedBootSeconds,
    slowStartSeconds,
    ...(cpuCredits ? { cpuCredits } : {}),
    ...(requestsPerTarget !== undefined ? { requestsPerTarget } : {}),
    ...readWarmPool(r, `${field}.warmPool`, o.warmPool, context.maxCapacity),
  };
}

/**
 * One instance of the fleet first (a canary), then the rest; a fleet of one has only 100. From five
 * instances on, one instance's errors are at most a fifth of the fleet's requests and can stay under the
 * fleet-wide error-rate threshold, so half the fleet is a second checkpoint before the rest: a bad release
 * is caught there at the latest, before it reaches every instance.
 */
export function defaultCheckpoints(desiredCapacity: number): number[] {
  const first = oneInstanceCheckpoint(desiredCapacity);
  if (first >= 100) return [100];
  return desiredCapacity >= 5 && first < 50 ? [first, 50, 100] : [first, 100];
}

function readCheckpoints(r: Reader, field: string, value: Json): number[] {
  const list = r.array(field, value, 10);
  if (!list || list.length === 0) {
    r.fail(field, "must list one to ten percentages, ascending, the last one 100, e.g. [10, 50, 100]");
    return [100];
  }
  const out: number[] = [];
  list.forEach((item, i) => {
    if (typeof item !== "number" || !Number.isInteger(item))
      r.fail(`${field}[${i}]`, `must be a whole number from 1 to 100, got ${describe(item)}`);
    else out.push(item);
  });
  return out;
}

function readWarmPool(r: Reader, field: string, value: Json, maxCapacity: number): { warmPool?: WarmPoolConfig } {
  if (value === undefined) return {};
  const o = r.object(field, value, ["state", "minSize", "reuseOnScaleIn"]);
  if (!o) return {};
  const d = DEFAULTS.warmPool;
  const state = r.oneOf(`${field}.state`, o.state, ["Stopped", "Hibernated", "Running"] as const, d.state);
  const minSize = r.integer(`${field}.minSize`, o.minSize, 0, maxCapacity, d.minSize);
  return { warmPool: { state, minSize, reuseOnScaleIn: r.boolean(`${field}.reuseOnScaleIn`, o.reuseOnScaleIn, d.reuseOnScaleIn) } };
}

function alarmWindowText(seconds: number): string {
  const minutes = (seconds - ALARM_TIMING.metricDelaySeconds) / ALARM_TIMING.periodSeconds;
  return `${minutes} one-minute periods, counting a partial first one, plus the ${ALARM_TIMING.metricDelaySeconds} s this project assumes for CloudWatch's delay`;
}

/**
 * Why a burstable type's CPU target would bill surplus credits, or undefined: in unlimited mode an
 * average above the baseline is paid per vCPU-hour (EC2 User Guide, burstable-performance-instances-unlimited-mode-concepts.html).
 */
export function creditWarning(env: Pick<EnvironmentConfig, "instanceType" | "cpuCredits" | "cpuTargetPercent">): string | undefined {
  const baseline = BURSTABLE_BASELINE_PERCENT[env.instanceType];
  if (env.cpuCredits !== "unlimited" || baseline === undefined || env.cpuTargetPercent <= baseline) return undefined;
  return `${env.instanceType} in unlimited mode with a CPU target of ${env.cpuTargetPercent} %, above its baseline of ${baseline} %: the surplus is billed per vCPU-hour`;
}
