/**
 * Stacks synthesized from random valid configurations respect AWS's rules (managed/aws-rules.ts, each
 * rule cited there): the refresh every release starts, and every name AWS limits or reserves.
 */
import fc from "fast-check";
import { Testing } from "cdktf";
import {
  alarmReactionSeconds,
  REGIONS,
  refreshPreferenceProblems,
  reservedAppNameReason,
  reservedEnvironmentNameReason,
  RESERVED_DEVICE_NAMES,
} from "../managed/aws-rules";
import { resolveConfig } from "../managed/config-validation";
import { WebTierStack } from "../stacks/web-tier-stack";

const SEED = 20261201;

const lowerName = (maxRest: number) =>
  fc.stringMatching(new RegExp(`^[a-z][a-z0-9]{0,${maxRest}}(-[a-z0-9]{1,3})?$`)).filter((n) => !RESERVED_DEVICE_NAMES.has(n));
const appName = fc
  .oneof(lowerName(15), fc.constantFrom("a", "internals", "awsome".slice(1), "ssmx".slice(1)))
  .filter((n) => n.length <= 20 && !reservedAppNameReason(n) && !Object.hasOwn(Object.prototype, n));
const envName = lowerName(8).filter((n) => n.length <= 12 && !reservedEnvironmentNameReason(n) && !Object.hasOwn(Object.prototype, n));

/** A min healthy percentage and a max that AWS accepts with it (100..200, at most min + 100), or none. */
const healthy = fc.integer({ min: 0, max: 100 }).chain((min) =>
  fc.record({
    minHealthyPercentage: fc.constant(min),
    maxHealthyPercentage: fc.option(fc.integer({ min: Math.max(100, min), max: Math.min(200, min + 100) }), { nil: undefined }),
  }),
);

const environment = fc
  .record({
    name: envName,
    healthy,
    instanceWarmupSeconds: fc.integer({ min: 0, max: 3600 }),
    rollbackErrorRatePercent: fc.integer({ min: 1, max: 100 }),
    rollbackUnhealthyMinutes: fc.integer({ min: 1, max: 60 }),
    // Above the slowest alarm's reaction (release-config.ts), whatever rollbackUnhealthyMinutes is.
    extraDelay: fc.integer({ min: 0, max: 3600 }),
    extraBake: fc.integer({ min: 0, max: 3600 }),
    checkpoints: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 3 }), { nil: undefined }),
    waf: fc.boolean(),
    natGateways: fc.constantFrom("single", "per-az"),
    ssm: fc.boolean(),
  })
  .map(({ healthy: h, ssm, name, extraDelay, extraBake, checkpoints, ...rest }) => ({
    name,
    ...rest,
    checkpointDelaySeconds: alarmReactionSeconds(Math.max(2, rest.rollbackUnhealthyMinutes)) + extraDelay,
    bakeTimeSeconds: alarmReactionSeconds(Math.max(2, rest.rollbackUnhealthyMinutes)) + extraBake,
    ...(checkpoints ? { checkpointPercentages: [...checkpoints.sort((a, b) => a - b), 100] } : {}),
    minHealthyPercentage: h.minHealthyPercentage,
    ...(h.maxHealthyPercentage !== undefined ? { maxHealthyPercentage: h.maxHealthyPercentage } : {}),
    ...(ssm ? { amiSource: `resolve:ssm:/image/${name}/ami-id` } : {}),
  }));

const config = fc
  .record({
    appName,
    region: fc.constantFrom(...Object.keys(REGIONS)),
    environments: fc.uniqueArray(environment, { minLength: 1, maxLength: 3, selector: (e) => e.name }),
    secrets: fc.uniqueArray(
      fc.stringMatching(/^[A-Z][A-Z0-9_]{0,12}$/).filter((s) => !/^(APP_|AWS_REGION|PATH|HOME|LD_|DOCKER_)/.test(s)),
      { maxLength: 2 },
    ),
  })
  .filter((c) => c.environments.every((e) => `${c.appName}-${e.name}`.length <= 32));

/** `${...}` interpolations stand for values AWS picks (ids, versions); the literal parts are what we control. */
const literalPart = (value: string) => value.replace(/\$\{[^}]*\}/g, "");

describe("random valid configurations", () => {
  it("start refreshes AWS accepts and name everything within AWS's rules (40 configurations)", () => {
    fc.assert(
      fc.property(config, (json) => {
        const resolved = resolveConfig(json);
        for (const env of resolved.environments) {
          const tf = JSON.parse(Testing.synth(new WebTierStack(Testing.app(), { config: resolved, environment: env })));
          const imageFromSsm = env.amiSource.mode === "ssm";
          const refresh = JSON.parse(tf.output.instance_refresh.value);
          expect(refreshPreferenceProblems(refresh.Preferences, { desiredVersion: "2", groupVersion: "1", imageFromSsm })).toEqual([]);
          expect(refresh.Preferences.AutoRollback).toBe(!imageFromSsm);
          const alarms = Object.values(tf.resource.aws_cloudwatch_metric_alarm) as any[];
          for (const alarm of refresh.Preferences.AlarmSpecification.Alarms) expect(alarms.map((a) => a.alarm_name)).toContain(alarm);
          // Every alarm the refresh watches can act while AWS can still roll back: within the checkpoint
          // delay and the bake time (AWS "can't roll it back after it's finished").
          for (const alarm of alarms) {
            const reaction = alarmReactionSeconds(alarm.datapoints_to_alarm);
            expect(alarm.period ?? alarm.metric_query.find((q: any) => q.metric)?.metric.period).toBe(60);
            expect(reaction).toBeLessThanOrEqual(refresh.Preferences.BakeTime);
            if (refresh.Preferences.CheckpointPercentages) expect(reaction).toBeLessThanOrEqual(refresh.Preferences.CheckpointDelay);
          }

          const prefix = `${resolved.appName}-${env.name}`;
          const lb = Object.values(tf.resource.aws_lb)[0] as any;
          // ELBv2 CreateLoadBalancer Name: at most 32, not beginning with internal-.
          expect(lb.name.length).toBeLessThanOrEqual(32);
          expect(lb.name.startsWith("internal-")).toBe(false);
          const tg = Object.values(tf.resource.aws_lb_target_group)[0] as any;
          expect(tg.name_prefix).toMatch(/^[a-z0-9-]{1,6}$/);
          expect(tg.name_prefix.endsWith("-")).toBe(false);
          // S3 bucket_prefix: 37 at most (63 less the provider's 26-character suffix); reserved prefixes.
          const bucket = Object.values(tf.resource.aws_s3_bucket)[0] as any;
          expect(bucket.bucket_prefix.length).toBeLessThanOrEqual(37);
          expect(bucket.bucket_prefix).not.toMatch(/^(xn--|sthree-|amzn-s3-demo-)/);
          // IAM name_prefix: 38 at most.
          for (const role of Object.values(tf.resource.aws_iam_role) as any[]) expect(role.name_prefix.length).toBeLessThanOrEqual(38);
          // KMS aliases: alias/, never alias/aws/.
          for (const alias of Object.values(tf.resource.aws_kms_alias) as any[])
            expect(alias.name).toMatch(/^alias\/(?!aws\/)[a-zA-Z0-9/_-]+$/);
          // SSM names: no aws/ssm prefix (case-insensitive), 15 levels at most, the allowed characters.
          for (const p of Object.values(tf.resource.aws_ssm_parameter ?? {}) as any[]) {
            expect(p.name).not.toMatch(/^\/?(aws|ssm)/i);
            expect(p.name.split("/").length - 1).toBeLessThanOrEqual(15);
            expect(p.name).toMatch(/^[a-zA-Z0-9_.\-/]+$/);
          }
          // CloudWatch Logs: 1-512 characters of [.-_/#A-Za-z0-9], not starting with aws/; WAF's need aws-waf-logs-.
          for (const g of Object.values(tf.resource.aws_cloudwatch_log_group) as any[]) {
            expect(g.name).toMatch(/^[.\-_/#A-Za-z0-9]{1,512}$/);
            expect(g.name.startsWith("aws/")).toBe(false);
          }
          if (env.waf)
            expect(Object.values(tf.resource.aws_cloudwatch_log_group).map((g: any) => g.name)).toContain(`aws-waf-logs-${prefix}`);
          // Alarm names 1-255; the Auto Scaling group name: no colon, 255 at most.
          for (const a of Object.values(tf.resource.aws_cloudwatch_metric_alarm) as any[])
            expect(a.alarm_name.length).toBeLessThanOrEqual(255);
          const group = Object.values(tf.resource.aws_autoscaling_group)[0] as any;
          expect(literalPart(group.name)).not.toContain(":");
        }
      }),
      { numRuns: 40, seed: SEED },
    );
  });
});
