/**
 * The release model (managed/release-model.ts) on random valid configurations, and the figures it gives
 * for the default environments (the targets; BENCHMARKS.md quotes the same model).
 */
import fc from "fast-check";
import { alarmReactionSeconds, instancesAtCheckpoint } from "../managed/aws-rules";
import { resolveConfig } from "../managed/config-validation";
import { batchSize, formatTimeline, releaseTimeline } from "../managed/release-model";

const SEED = 20261208;

const environment = fc
  .record({
    capacity: fc.integer({ min: 1, max: 40 }),
    minHealthyPercentage: fc.integer({ min: 0, max: 100 }),
    spread: fc.integer({ min: 0, max: 100 }),
    checkpoints: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    rollbackUnhealthyMinutes: fc.integer({ min: 1, max: 10 }),
    extraDelay: fc.integer({ min: 0, max: 900 }),
    extraBake: fc.integer({ min: 0, max: 900 }),
    expectedBootSeconds: fc.integer({ min: 10, max: 500 }),
    instanceWarmupSeconds: fc.integer({ min: 0, max: 600 }),
    rollbackErrorRatePercent: fc.integer({ min: 1, max: 10 }),
    slowStartSeconds: fc.constantFrom(0, 30, 120),
  })
  .map((e) => {
    const reaction = alarmReactionSeconds(Math.max(2, e.rollbackUnhealthyMinutes)) + e.slowStartSeconds;
    return {
      name: "env",
      instanceType: "m7i.large",
      minCapacity: e.capacity,
      maxCapacity: e.capacity,
      minHealthyPercentage: e.minHealthyPercentage,
      maxHealthyPercentage: Math.max(100, Math.min(200, e.minHealthyPercentage + e.spread)),
      ...(e.checkpoints ? { checkpointPercentages: [...e.checkpoints].sort((a, b) => a - b).concat(100) } : {}),
      checkpointDelaySeconds: reaction + e.extraDelay,
      bakeTimeSeconds: reaction + e.extraBake,
      rollbackUnhealthyMinutes: e.rollbackUnhealthyMinutes,
      expectedBootSeconds: e.expectedBootSeconds,
      instanceWarmupSeconds: e.instanceWarmupSeconds,
      rollbackErrorRatePercent: e.rollbackErrorRatePercent,
      slowStartSeconds: e.slowStartSeconds,
    };
  });

describe("the release model on random valid configurations", () => {
  it("replaces every instance once, in batches AWS allows, pausing at each checkpoint, and catches what its alarms can see", () => {
    fc.assert(
      fc.property(environment, (json) => {
        const [env] = resolveConfig({ appName: "model", environments: [json] }).environments;
        const t = releaseTimeline(env);
        const n = env.desiredCapacity;
        const size = batchSize(n, env.minHealthyPercentage, env.maxHealthyPercentage);
        // Every instance exactly once, no batch above the batch size, in order.
        expect(t.batches.reduce((sum, b) => sum + b.instances, 0)).toBe(n);
        expect(t.batches.at(-1)!.newTotal).toBe(n);
        for (const [i, b] of t.batches.entries()) {
          expect(b.instances).toBeGreaterThanOrEqual(1);
          expect(b.instances).toBeLessThanOrEqual(size);
          if (i > 0) expect(b.launchedAt).toBeGreaterThanOrEqual(t.batches[i - 1].replacedAt);
          expect(b.launchedAt < b.servingAt && b.servingAt <= b.replacedAt).toBe(true);
        }
        // A checkpoint is reached with ceil(p * n / 100) new instances and holds for the delay.
        for (const b of t.batches.filter((x) => x.checkpoint)) {
          expect(b.newTotal).toBe(instancesAtCheckpoint(b.checkpoint!.percentage, n));
          expect(b.checkpoint!.pauseEndsAt - b.replacedAt).toBe(env.checkpointDelaySeconds);
        }
        // The default canary is one instance.
        if (env.canaryOneInstance && n > 1) expect(t.batches[0].instances).toBe(1);
        expect(t.completeAt - t.fullAt).toBe(env.bakeTimeSeconds);
        // An app that never answers never serves a request and is rolled back.
        expect(t.crashing).toMatchObject({ worstInstances: 0, inTime: true });
        expect(t.unreachable).toMatchObject({ worstInstances: 0, inTime: true });
        // Errors the alarm can see are caught before the next batch starts, within the bake time at the latest.
        const e = t.erroring;
        if (e.detectedAt !== undefined) {
          expect(e.inTime).toBe(true);
          const batch = t.batches.find((b) => b.newTotal === e.worstInstances)!;
          const next = t.batches[t.batches.indexOf(batch) + 1];
          expect(e.detectedAt).toBeLessThanOrEqual(next ? next.launchedAt : t.completeAt);
          expect((5 * e.worstSharePercent) / 100).toBeGreaterThan(env.rollbackErrorRatePercent - 1e-9);
        } else {
          // Not caught: even with every instance new, 5 % of errors is within the threshold.
          expect(5).toBeLessThanOrEqual(env.rollbackErrorRatePercent);
        }
      }),
      { numRuns: 200, seed: SEED },
    );
  });
});

describe("the default environments", () => {
  const config = resolveConfig({ appName: "demo", environments: [{ name: "staging" }, { name: "production", minCapacity: 3 }] });
  const [staging, production] = config.environments;

  it("production, 3 instances: a bad release serves one instance's share at most and is rolled back before the bake ends; a good one is at 100 % within 15 minutes", () => {
    const t = releaseTimeline(production);
    expect(t.capacity).toBe(3);
    expect(t.batches.map((b) => b.instances)).toEqual([1, 2]);
    expect(t.fullAt).toBeLessThanOrEqual(15 * 60);
    expect(t.erroring).toMatchObject({ worstInstances: 1, worstSharePercent: 33.3, inTime: true });
    expect(t.erroring.rolledBackAt!).toBeLessThan(t.completeAt);
    expect(t.crashing).toMatchObject({ worstInstances: 0, worstSharePercent: 0 });
    // Answers locally, fails the load balancer's check: registered after the hook, unhealthy 45 s later,
    // the unhealthy alarm 300 s after that; no request reached it.
    expect(t.unreachable).toMatchObject({ worstInstances: 0, detectedAt: 90 + 45 + 300 });
  });

  it("staging moves faster than production and prints the same timeline the deploy prints", () => {
    expect(releaseTimeline(staging).completeAt).toBeLessThan(releaseTimeline(production).completeAt);
    const text = formatTimeline("production", releaseTimeline(production));
    expect(text).toContain("Release model for production, 3 instance(s), 2 at a time");
    expect(text).toContain("checkpoint 33 %");
    expect(text).toContain("caught at 7:00, 1 instance(s) (33.3 % of requests) served it at most, rolled back by 10:00");
  });
});
