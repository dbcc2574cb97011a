/**
 * The instance refresh every release starts: its preferences come from the environment's config and
 * obey managed/aws-rules.ts. The stacks publish them as the `instance_refresh` output, which the
 * rollout command (managed/rollout.sh) hands to `aws autoscaling start-instance-refresh`.
 */
import type { RefreshPreferences } from "./aws-rules";
import type { EnvironmentConfig } from "./config";

export interface RolloutSettings {
  readonly environment: Pick<
    EnvironmentConfig,
    | "minHealthyPercentage"
    | "maxHealthyPercentage"
    | "instanceWarmupSeconds"
    | "checkpointPercentages"
    | "checkpointDelaySeconds"
    | "bakeTimeSeconds"
  >;
  /** The launch template's image is `resolve:ssm:<parameter>`. */
  readonly imageFromSsm: boolean;
  /** CloudWatch alarms that stop the refresh when they go to ALARM. */
  readonly alarmNames: readonly string[];
}

/**
 * - Min/MaxHealthyPercentage from the config (validated against AWS's rule: max - min <= 100): new
 *   instances start before old ones stop.
 * - SkipMatching: instances already on the desired template version stay; with resolve:ssm the
 *   template may be unchanged while the image behind the parameter is new, so every instance goes.
 * - AutoRollback, except with resolve:ssm, which AWS cannot roll back to (RefreshPreferences).
 * - Protected and standby instances are replaced too: a release leaves none of the old image behind
 *   (the API's default, Wait, fails the refresh after an hour).
 * - AlarmSpecification: the alarms fail the refresh, and with AutoRollback roll it back.
 * - CheckpointPercentages and CheckpointDelay: a canary first (one instance by default), then a pause in
 *   which the alarms can act before the next batch; "Amazon EC2 Auto Scaling paces instance replacements
 *   to honor the specified checkpoint percentages" (User Guide, asg-adding-checkpoints-instance-refresh.html).
 *   A fleet of one has a single checkpoint at 100, which needs no delay.
 * - BakeTime: "The amount of time, in seconds, to wait at the end of an instance refresh before the
 *   instance refresh is considered complete" (RefreshPreferences): the window in which the alarms can
 *   still roll the whole release back ("You can't roll it back after it's finished").
 */
export function refreshPreferences(settings: RolloutSettings): RefreshPreferences {
  const { environment: env, imageFromSsm } = settings;
  return {
    MinHealthyPercentage: env.minHealthyPercentage,
    MaxHealthyPercentage: env.maxHealthyPercentage,
    InstanceWarmup: env.instanceWarmupSeconds,
    SkipMatching: !imageFromSsm,
    AutoRollback: !imageFromSsm,
    ScaleInProtectedInstances: "Refresh",
    StandbyInstances: "Terminate",
    AlarmSpecification: { Alarms: [...settings.alarmNames] },
    ...(env.checkpointPercentages.length > 1
      ? { CheckpointPercentages: [...env.checkpointPercentages], CheckpointDelay: env.checkpointDelaySeconds }
      : {}),
    BakeTime: env.bakeTimeSeconds,
  };
}
