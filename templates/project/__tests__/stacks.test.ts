/**
 * Every environment of the configuration synthesizes to a stack that keeps the promises of the design:
 * IMDSv2, a group whose template version only a successful rollout moves, no port 22, instances reachable
 * only from the load balancer, one SSM parameter per config key and secret (secrets write-only), a boot
 * script that expects exactly those, an instance role confined to its own environment, and a release that
 * can be rolled back while AWS still can (alarms that act within the checkpoint delay and the bake time).
 * Node's own test runner (node:test, node:assert): `npm test`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Testing } from "cdktf";
import { addStacks } from "../stacks/app";
import { alarmReactionSeconds } from "../managed/aws-rules";
import { CONFIG_FILE } from "../managed/config";
import { unescapeTfString } from "../managed/escape";
import { loadConfig } from "../managed/load-config";
import { configParameterName, secretParameterName } from "../managed/names";
import { renderUserData } from "../managed/user-data";

const config = loadConfig(join(__dirname, "..", CONFIG_FILE));
const stacks = addStacks(Testing.app(), config);

type Resource = Record<string, any>;

/** The one resource of `type`; fails when there is none or more than one. */
function only(resources: Record<string, Resource> | undefined, type: string): [string, Resource] {
  const entries = Object.entries(resources ?? {});
  if (entries.length !== 1) throw new Error(`expected one ${type}, found ${entries.length}`);
  return entries[0];
}

/** `${aws_x.name.attr}`: the Terraform reference to an attribute of a resource. */
const ref = (type: string, name: string, attribute: string): string => `\${${type}.${name}.${attribute}}`;

/** `actual` has every key of `expected`, each deeply equal (other keys may differ). */
function assertHas(actual: Resource | undefined, expected: Resource): void {
  assert.ok(actual !== undefined, "expected an object");
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(actual[key], value, key);
}

for (const [i, env] of config.environments.entries())
  describe(`stack ${env.name}`, () => {
    const stack = stacks[i];
    const tf = JSON.parse(Testing.synth(stack));
    const resources: Record<string, Record<string, Resource>> = tf.resource;
    const [templateName, template] = only(resources.aws_launch_template, "aws_launch_template");
    const [, group] = only(resources.aws_autoscaling_group, "aws_autoscaling_group");
    const [, lb] = only(resources.aws_lb, "aws_lb");
    const envConfig = { ...config.config, ...env.config };

    it("requires IMDSv2 on every instance", () => {
      assertHas(template.metadata_options, { http_endpoint: "enabled", http_tokens: "required" });
    });

    it("starts the group on the template's numbered version and leaves later versions to the rollout, sized as configured", () => {
      assert.deepEqual(group.launch_template, {
        id: ref("aws_launch_template", templateName, "id"),
        version: ref("aws_launch_template", templateName, "latest_version"),
      });
      assertHas(group, { min_size: env.minCapacity, max_size: env.maxCapacity, health_check_type: "ELB" });
      // The rollout (managed/rollout.sh) moves the group by an instance refresh that can roll back.
      for (const attribute of ["desired_capacity", "launch_template[0].version"]) {
        assert.ok(group.lifecycle.ignore_changes.includes(attribute), `ignore_changes lacks ${attribute}`);
      }
      assert.equal(group.instance_refresh, undefined);
      const refresh = JSON.parse(tf.output.instance_refresh.value);
      assert.equal(refresh.DesiredConfiguration.LaunchTemplate.Version, ref("aws_launch_template", templateName, "latest_version"));
      assert.ok(refresh.Preferences.MaxHealthyPercentage - refresh.Preferences.MinHealthyPercentage <= 100);
    });

    it("can be rolled back in time: every rollout alarm acts within the checkpoint delay and the bake time; instances join only once ready", () => {
      const preferences = JSON.parse(tf.output.instance_refresh.value).Preferences;
      const alarms = Object.values(resources.aws_cloudwatch_metric_alarm ?? {});
      assert.ok(preferences.AlarmSpecification.Alarms.length > 0, "the refresh watches no alarm");
      for (const name of preferences.AlarmSpecification.Alarms) {
        const alarm = alarms.find((a) => a.alarm_name === name);
        assert.ok(alarm, `the refresh watches ${name}, which the stack does not create`);
        // AWS cannot roll back a refresh that has finished (managed/aws-rules.ts alarmReactionSeconds).
        const reaction = alarmReactionSeconds(alarm.datapoints_to_alarm) + env.slowStartSeconds;
        assert.ok(preferences.BakeTime >= reaction, `${name} needs ${reaction} s, the bake time is ${preferences.BakeTime} s`);
        if (preferences.CheckpointPercentages)
          assert.ok(
            preferences.CheckpointDelay >= reaction,
            `${name} needs ${reaction} s, the checkpoint delay is ${preferences.CheckpointDelay} s`,
          );
      }
      const hooks = Object.values(resources.aws_autoscaling_lifecycle_hook ?? {});
      assert.ok(
        hooks.some((h) => h.lifecycle_transition === "autoscaling:EC2_INSTANCE_LAUNCHING" && h.default_result === "ABANDON"),
        "no launch lifecycle hook that abandons an instance whose app never answers",
      );
    });

    it("takes the image from the configured source", () => {
      if (env.amiSource.mode === "ssm") {
        assert.equal(template.image_id, `resolve:ssm:${env.amiSource.parameter}`);
        assert.equal(tf.variable?.ami_id, undefined);
      } else {
        assert.equal(template.image_id, "${var.ami_id}");
        assert.equal(tf.variable.ami_id.type, "string");
      }
    });

    it("opens no port 22 and allows no all-protocol ingress", () => {
      const rules = Object.values(resources.aws_vpc_security_group_ingress_rule ?? {});
      assert.ok(rules.length > 0);
      for (const rule of rules) {
        assert.notEqual(rule.ip_protocol, "-1");
        assert.equal(rule.from_port <= 22 && 22 <= rule.to_port, false, `a rule opens port 22: ${JSON.stringify(rule)}`);
      }
      // Rules only come as separate resources: no inline ingress, no aws_security_group_rule.
      const groups = Object.values(resources.aws_security_group ?? {});
      for (const group of groups) assert.deepEqual(group.ingress ?? [], []);
      assert.equal(resources.aws_security_group_rule, undefined);
      assert.equal(template.key_name, undefined);
    });

    it("lets only the load balancer reach the instances, on the app port", () => {
      const instanceGroups: string[] = template.network_interfaces.flatMap((ni: Resource) => ni.security_groups);
      assert.equal(instanceGroups.length, 1);
      assert.equal(lb.security_groups.length, 1);
      const toInstances = Object.values(resources.aws_vpc_security_group_ingress_rule ?? {}).filter(
        (r) => r.security_group_id === instanceGroups[0],
      );
      assert.equal(toInstances.length, 1);
      assertHas(toInstances[0], {
        referenced_security_group_id: lb.security_groups[0],
        ip_protocol: "tcp",
        from_port: config.appPort,
        to_port: config.appPort,
      });
      assert.equal(toInstances[0].cidr_ipv4, undefined);
      assert.equal(toInstances[0].cidr_ipv6, undefined);
      for (const ni of template.network_interfaces) assert.equal(ni.associate_public_ip_address, "false");
    });

    it("has an SSM parameter with the right name and type for each config key and secret, and no other", () => {
      const parameters = Object.values(resources.aws_ssm_parameter ?? {});
      const expected: Array<{ name: string; type: string; value?: string }> = [
        ...Object.keys(envConfig).map((key) => ({
          name: configParameterName(config.appName, env.name, key),
          type: "String",
          value: envConfig[key],
        })),
        ...config.secrets.map((name) => ({ name: secretParameterName(config.appName, env.name, name), type: "SecureString" })),
      ].sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        parameters.map((p) => p.name).sort(),
        expected.map((p) => p.name),
      );
      for (const want of expected) {
        const parameter = parameters.find((p) => p.name === want.name)!;
        assert.equal(parameter.type, want.type);
        if (want.type === "String") assert.equal(unescapeTfString(parameter.value), want.value);
        else {
          assert.match(parameter.key_id, /^\$\{aws_kms_key\./);
          // Write-only: the value set out of band never reaches the state.
          assert.equal(parameter.value, undefined);
          assert.equal(parameter.value_wo_version, 1);
        }
      }
    });

    it("boots with the script for this environment, expecting exactly the parameters the stack creates", () => {
      const match = /^\$\{base64encode\(("(?:[^"\\]|\\.)*")\)\}$/s.exec(template.user_data);
      assert.ok(match, "user_data is base64encode(<string>)");
      const script = unescapeTfString(JSON.parse(match[1]));
      assert.equal(
        script,
        renderUserData({
          appName: config.appName,
          environment: env.name,
          region: config.region,
          appPort: config.appPort,
          config: envConfig,
          secrets: config.secrets,
        }),
      );
      const expected = /^EXPECTED_PARAMETERS=(.*)$/m.exec(script)![1];
      const created = Object.values(resources.aws_ssm_parameter ?? {})
        .map((p) => String(p.name).split("/").pop())
        .sort();
      assert.deepEqual(expected === "" ? [] : expected.split(","), created);
    });

    it("ships logs to CloudWatch with the configured retention, encrypted", () => {
      const groups = Object.values(resources.aws_cloudwatch_log_group ?? {});
      assert.ok(groups.length > 0);
      for (const logs of groups) {
        assert.equal(logs.retention_in_days, env.logRetentionDays);
        assert.match(logs.kms_key_id, /^\$\{aws_kms_key\./);
      }
    });

    it("lets instances read their own environment's parameters and explicitly nothing else", () => {
      assert.equal(resources.aws_iam_role_policy_attachment, undefined);
      const runtime = Object.values(resources.aws_iam_role_policy ?? {}).find((p) => p.name === "runtime")!;
      const statements: Resource[] = JSON.parse(runtime.policy).Statement;
      const deny = statements.find((s) => s.Effect === "Deny")!;
      assert.deepEqual(deny.Action, ["ssm:GetParameter*"]);
      assert.ok(deny.NotResource.every((arn: string) => arn.includes(`:parameter/${config.appName}/${env.name}`)));
    });
  });
