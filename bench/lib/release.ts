/**
 * The release model's figures for the default environments (managed/release-model.ts): computed, not
 * measured (AWS is not reachable here). Every figure follows from the configuration and the rules the
 * model cites; the boot time is its input (expectedBootSeconds), CloudWatch's delay its stated assumption.
 */
import { ALARM_TIMING } from "../../managed/aws-rules";
import { resolveConfig } from "../../managed/config-validation";
import { type ReleaseTimeline, releaseTimeline } from "../../managed/release-model";
import { type Column, markdownTable } from "./table";

const col = (header: string, align: "left" | "right" = "right"): Column => ({ header, align });

/** The targets for default production with 3 instances. */
export const RELEASE_TARGETS = { productionCapacity: 3, fullMinutes: 15 } as const;

export interface ReleaseFigures {
  readonly name: string;
  readonly timeline: ReleaseTimeline;
}

/** Default staging (its default capacity) and default production at 3 instances. */
export function defaultReleases(): ReleaseFigures[] {
  const config = resolveConfig({
    appName: "bench-app",
    environments: [{ name: "staging" }, { name: "production", minCapacity: RELEASE_TARGETS.productionCapacity }],
  });
  return config.environments.map((env) => ({ name: env.name, timeline: releaseTimeline(env) }));
}

function minutes(seconds: number | undefined): string {
  return seconds === undefined ? "never" : `${(seconds / 60).toFixed(1)} min`;
}

export function releaseSection(): string {
  const rows = defaultReleases().map(({ name, timeline: t }) => [
    `${name} (${t.capacity})`,
    `${t.batches.map((b) => b.instances).join(" + ")}`,
    minutes(t.canaryServingAt),
    minutes(t.fullAt),
    minutes(t.completeAt),
    `${t.erroring.worstInstances} (${t.erroring.worstSharePercent} %)`,
    minutes(t.erroring.rolledBackAt),
    minutes(t.crashing.rolledBackAt),
  ]);
  return [
    "Computed by the release model (`managed/release-model.ts`, the same numbers `npm run plan` and `npm run deploy` print),",
    "not measured: minutes from the start of the instance refresh. Inputs: the default configuration (boot",
    `time 90 s, warm-up 60 s, target health 2 checks 15 s apart, checkpoint delay 300 s, bake 300 s / 600 s in production), and`,
    `CloudWatch's delay, which AWS does not document: assumed ${ALARM_TIMING.metricDelaySeconds} s. A bad release is new instances answering 5 % of`,
    "requests with 5xx (caught by the error-rate alarm), or an app that never answers (its boot abandons the lifecycle hook",
    "after the 600 s boot timeout and reports the failure to the boot-failure alarm).",
    "",
    markdownTable(
      [
        col("environment (instances)", "left"),
        col("batches"),
        col("canary serves"),
        col("100 % new"),
        col("complete (after bake)"),
        col("5 % errors: instances (share) that served it"),
        col("rolled back by"),
        col("never answers: rolled back by"),
      ],
      rows,
    ),
  ].join("\n");
}
