/**
 * The release model: how long a rolling release of one environment takes, and how far a bad one gets,
 * computed from the environment's configuration and the rules AWS documents (each cited where used).
 * `npm run plan`, the first lines of `npm run deploy`, the README and BENCHMARKS.md quote it; nothing
 * else states a release's duration. Times are seconds from the start of the instance refresh (the end of
 * the apply). What AWS does not document is a named input or assumption, never a hidden constant:
 * the boot time (expectedBootSeconds, measured by the local VM's preview) and CloudWatch's delay
 * (ALARM_TIMING.metricDelaySeconds).
 */
import { alarmReactionSeconds, instancesAtCheckpoint } from "./aws-rules";
import type { EnvironmentConfig } from "./config";
import { defaultCheckpoints, rolloutAlarmDatapoints } from "./release-config";

/** The target group's health check (stacks/load-balancer.ts uses these numbers). */
export const TARGET_HEALTH_CHECK = { intervalSeconds: 15, healthyThreshold: 2, unhealthyThreshold: 3 } as const;

export type ModelEnvironment = Pick<
  EnvironmentConfig,
  | "desiredCapacity"
  | "minHealthyPercentage"
  | "maxHealthyPercentage"
  | "instanceWarmupSeconds"
  | "checkpointPercentages"
  | "canaryOneInstance"
  | "checkpointDelaySeconds"
  | "bakeTimeSeconds"
  | "rollbackErrorRatePercent"
  | "rollbackUnhealthyMinutes"
  | "bootTimeoutSeconds"
  | "expectedBootSeconds"
  | "slowStartSeconds"
>;

export interface Batch {
  /** New instances launched together. */
  readonly instances: number;
  /** New instances after this batch. */
  readonly newTotal: number;
  readonly launchedAt: number;
  /** The batch's instances take requests (registered at the end of the lifecycle hook and healthy). */
  readonly servingAt: number;
  /** AWS counts them as replaced (healthy, and the warm-up has passed). */
  readonly replacedAt: number;
  /** The checkpoint this batch reached, if any, and the pause after it. */
  readonly checkpoint?: { readonly percentage: number; readonly pauseEndsAt: number };
}

export interface BadRelease {
  readonly what: string;
  /** Undefined: the alarms do not see it (below their threshold). */
  readonly detectedAt?: number;
  /** New instances that ever served the bad release (0: none took a request). */
  readonly worstInstances: number;
  /** Their share of the fleet's requests, in percent, at the worst moment. */
  readonly worstSharePercent: number;
  /** The rollback has put the previous version back on every replaced instance. */
  readonly rolledBackAt?: number;
  /** True when the rollback started before the refresh could finish (AWS can roll back only until then). */
  readonly inTime: boolean;
}

export interface ReleaseTimeline {
  readonly capacity: number;
  readonly batchSize: number;
  readonly batches: readonly Batch[];
  /** The first new instance takes requests. */
  readonly canaryServingAt: number;
  /** Every instance is new: the release serves 100 % of requests. */
  readonly fullAt: number;
  /** The bake time has passed: the refresh is Successful and can no longer be rolled back. */
  readonly completeAt: number;
  /** Seconds until each rollout alarm can be in ALARM after bad behaviour starts. */
  readonly alarmReaction: Readonly<Record<string, number>>;
  readonly crashing: BadRelease;
  /** New instances whose app answers locally but fails the load balancer's health check. */
  readonly unreachable: BadRelease;
  readonly erroring: BadRelease;
}

/**
 * How many instances one batch replaces. MinHealthyPercentage and MaxHealthyPercentage are "expressed as a
 * percentage of the desired capacity" and "control how many instances are replaced simultaneously and
 * whether new instances are launched before terminating old ones" (RefreshPreferences; User Guide,
 * instance-refresh-overview.html): up to max - 100 % extra instances start, and capacity may drop to min %.
 */
export function batchSize(capacity: number, minHealthy: number, maxHealthy: number): number {
  const extra = Math.floor(((maxHealthy - 100) * capacity) / 100 + 1e-9);
  const down = capacity - Math.ceil((minHealthy * capacity) / 100 - 1e-9);
  return Math.max(1, extra + down);
}

/** The rolling release of `env` with `capacity` instances (default: its desired capacity). */
export function releaseTimeline(env: ModelEnvironment, capacity = env.desiredCapacity, errorPercent = 5): ReleaseTimeline {
  const n = Math.max(1, capacity);
  const checkpoints = env.canaryOneInstance ? defaultCheckpoints(n) : [...env.checkpointPercentages];
  const size = batchSize(n, env.minHealthyPercentage, env.maxHealthyPercentage);
  // A new instance: launch to the app answering (expectedBootSeconds, the boot script completes the hook),
  // then "registered to the load balancer at the end of the lifecycle hook" (User Guide, lifecycle hooks)
  // and healthy after HealthyThresholdCount consecutive checks one interval apart (ELBv2 API,
  // TargetGroup.HealthyThresholdCount); counted as replaced "when the instance's health status changes to
  // healthy and the specified warm-up time passes" (API reference, InstanceRefresh.PercentageComplete).
  const healthy = TARGET_HEALTH_CHECK.healthyThreshold * TARGET_HEALTH_CHECK.intervalSeconds;
  const serving = env.expectedBootSeconds + healthy;
  const replaced = serving + env.instanceWarmupSeconds;

  const batches: Batch[] = [];
  let t = 0;
  let done = 0;
  checkpoints.forEach((percentage, i) => {
    // "Amazon EC2 Auto Scaling paces instance replacements to honor the specified checkpoint percentages
    // ... will sometimes replace fewer but never more" (asg-adding-checkpoints-instance-refresh.html).
    const target = Math.min(n, instancesAtCheckpoint(percentage, n));
    while (done < target) {
      const instances = Math.min(size, target - done);
      done += instances;
      const last = done === target;
      const pause = last && i < checkpoints.length - 1 ? env.checkpointDelaySeconds : 0;
      batches.push({
        instances,
        newTotal: done,
        launchedAt: t,
        servingAt: t + serving,
        replacedAt: t + replaced,
        ...(last && i < checkpoints.length - 1 ? { checkpoint: { percentage, pauseEndsAt: t + replaced + pause } } : {}),
      });
      t += replaced + pause;
    }
  });
  const fullAt = t;
  // "BakeTime: The amount of time, in seconds, to wait at the end of an instance refresh before the
  // instance refresh is considered complete" (RefreshPreferences).
  const completeAt = fullAt + env.bakeTimeSeconds;
  const alarmReaction = Object.fromEntries(
    Object.entries(rolloutAlarmDatapoints(env)).map(([alarm, points]) => [alarm, alarmReactionSeconds(points)]),
  );
  const first = batches[0];
  // A rollback "replaces the instances that have been deployed so far" with the configuration saved on the
  // group before the refresh (User Guide, instance-refresh-rollback.html): one more batch of the old version.
  // The worst case is an app that hangs: abandoned when bootTimeoutSeconds run out (one that crashes, or
  // whose config fails, is abandoned as soon as its unit fails). It never took a request.
  const crashDetected = first.launchedAt + env.bootTimeoutSeconds + alarmReaction["boot failures"];
  // The refresh cannot pass an instance whose lifecycle action is pending, so it is always in time; AWS
  // itself fails a refresh whose instances never become healthy after an hour ("keeps retrying for an
  // hour", instance-refresh-overview.html), which the alarm beats unless bootTimeoutSeconds is longer.
  const crashing: BadRelease = {
    what: "an app that never answers its health check at boot",
    detectedAt: Math.min(crashDetected, first.launchedAt + 3600),
    worstInstances: 0,
    worstSharePercent: 0,
    rolledBackAt: Math.min(crashDetected, first.launchedAt + 3600),
    inTime: true,
  };
  // Registered at the end of the hook, unhealthy after UnhealthyThresholdCount failed checks (ELBv2 API,
  // TargetGroup.UnhealthyThresholdCount); the load balancer sends requests only to healthy targets while
  // others are healthy, so none reached it; the unhealthy alarm sees one in every minute.
  const unreachableAt =
    first.launchedAt +
    env.expectedBootSeconds +
    TARGET_HEALTH_CHECK.unhealthyThreshold * TARGET_HEALTH_CHECK.intervalSeconds +
    alarmReaction.unhealthy;
  const unreachable: BadRelease = {
    what: "an app that answers locally but fails the load balancer's health check",
    detectedAt: unreachableAt,
    worstInstances: 0,
    worstSharePercent: 0,
    rolledBackAt: unreachableAt,
    inTime: true,
  };
  return {
    capacity: n,
    batchSize: size,
    batches,
    canaryServingAt: first.servingAt,
    fullAt,
    completeAt,
    alarmReaction,
    crashing,
    unreachable,
    erroring: erroringRelease(env, batches, n, errorPercent, alarmReaction["error rate"], replaced, completeAt),
  };
}

/**
 * A release whose new instances answer `errorPercent` % of requests with 5xx. The load balancer spreads
 * requests over healthy targets, so new instances carry their share of the fleet (newTotal / capacity; with
 * slow start only after slowStartSeconds, "the load balancer linearly increases the share of requests",
 * ELB User Guide, "Slow start mode"): the fleet's error rate is errorPercent times that share. The
 * error-rate alarm fires once that rate is above rollbackErrorRatePercent, its reaction time after the
 * batch serves.
 */
function erroringRelease(
  env: ModelEnvironment,
  batches: readonly Batch[],
  capacity: number,
  errorPercent: number,
  reaction: number,
  replaced: number,
  completeAt: number,
): BadRelease {
  const what = `new instances that answer ${errorPercent} % of requests with 5xx`;
  for (const batch of batches) {
    const share = (100 * batch.newTotal) / capacity;
    if ((errorPercent * share) / 100 <= env.rollbackErrorRatePercent) continue;
    const detectedAt = batch.servingAt + env.slowStartSeconds + reaction;
    // The next batch starts at the end of this one's pause (or the bake ends): the alarm must come first.
    const next = batches[batches.indexOf(batch) + 1];
    const deadline = next ? next.launchedAt : completeAt;
    if (detectedAt > deadline) continue;
    return {
      what,
      detectedAt,
      worstInstances: batch.newTotal,
      worstSharePercent: Math.round(share * 10) / 10,
      rolledBackAt: detectedAt + replaced,
      inTime: true,
    };
  }
  return { what, worstInstances: capacity, worstSharePercent: 100, inTime: false };
}

function clock(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** The timeline as the deploy and `npm run plan` print it. */
export function formatTimeline(name: string, timeline: ReleaseTimeline): string {
  const lines = [
    `Release model for ${name}, ${timeline.capacity} instance(s), ${timeline.batchSize} at a time (min:sec from the start of the refresh):`,
  ];
  for (const b of timeline.batches) {
    lines.push(
      `  ${clock(b.launchedAt)}  ${b.instances} new instance(s) launch; serving at ${clock(b.servingAt)}, replaced at ${clock(b.replacedAt)} (${b.newTotal}/${timeline.capacity} new)` +
        (b.checkpoint ? `; checkpoint ${b.checkpoint.percentage} %, paused until ${clock(b.checkpoint.pauseEndsAt)}` : ""),
    );
  }
  lines.push(
    `  ${clock(timeline.fullAt)}  every instance runs the release (100 %); baking until ${clock(timeline.completeAt)}, when the refresh is complete and can no longer be rolled back`,
    `  alarms act within: ${Object.entries(timeline.alarmReaction)
      .map(([alarm, s]) => `${alarm} ${s} s`)
      .join(", ")}`,
  );
  for (const bad of [timeline.crashing, timeline.unreachable, timeline.erroring]) {
    lines.push(
      bad.detectedAt === undefined || !bad.inTime
        ? `  a bad release (${bad.what}): NOT caught by the alarms, it can reach every instance`
        : `  a bad release (${bad.what}): caught at ${clock(bad.detectedAt)}, ${bad.worstInstances} instance(s) (${bad.worstSharePercent} % of requests) served it at most, rolled back by ${clock(bad.rolledBackAt ?? bad.detectedAt)}`,
    );
  }
  return lines.join("\n");
}
