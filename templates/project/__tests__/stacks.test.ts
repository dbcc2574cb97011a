/**
 * Every environment of the configuration synthesizes to a stack that keeps the promises of the design:
 * IMDSv2, a group whose template version only a successful rollout moves, no port 22, instances reachable
 * only from the load balancer, one SSM parameter per config key and secret (secrets write-only), a boot
 * script that expects exactly those, and an instance role confined to its own environment.
 */
import { join } from "node:path";
import { Testing } from "cdktf";
import { addStacks } from "../stacks/app";
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

describe.each(config.environments.map((env, i) => [env.name, env, stacks[i]] as const))("stack %s", (_name, env, stack) => {
  const tf = JSON.parse(Testing.synth(stack));
  const resources: Record<string, Record<string, Resource>> = tf.resource;
  const [templateName, template] = only(resources.aws_launch_template, "aws_launch_template");
  const [, group] = only(resources.aws_autoscaling_group, "aws_autoscaling_group");
  const [, lb] = only(resources.aws_lb, "aws_lb");
  const envConfig = { ...config.config, ...env.config };

  it("requires IMDSv2 on every instance", () => {
    expect(template.metadata_options).toMatchObject({ http_endpoint: "enabled", http_tokens: "required" });
  });

  it("starts the group on the template's numbered version and leaves later versions to the rollout, sized as configured", () => {
    expect(group.launch_template).toEqual({
      id: ref("aws_launch_template", templateName, "id"),
      version: ref("aws_launch_template", templateName, "latest_version"),
    });
    expect(group).toMatchObject({ min_size: env.minCapacity, max_size: env.maxCapacity, health_check_type: "ELB" });
    // The rollout (managed/rollout.sh) moves the group by an instance refresh that can roll back.
    expect(group.lifecycle.ignore_changes).toEqual(expect.arrayContaining(["desired_capacity", "launch_template[0].version"]));
    expect(group.instance_refresh).toBeUndefined();
    const refresh = JSON.parse(tf.output.instance_refresh.value);
    expect(refresh.DesiredConfiguration.LaunchTemplate.Version).toBe(ref("aws_launch_template", templateName, "latest_version"));
    expect(refresh.Preferences.MaxHealthyPercentage - refresh.Preferences.MinHealthyPercentage).toBeLessThanOrEqual(100);
  });

  it("takes the image from the configured source", () => {
    if (env.amiSource.mode === "ssm") {
      expect(template.image_id).toBe(`resolve:ssm:${env.amiSource.parameter}`);
      expect(tf.variable?.ami_id).toBeUndefined();
    } else {
      expect(template.image_id).toBe("${var.ami_id}");
      expect(tf.variable.ami_id.type).toBe("string");
    }
  });

  it("opens no port 22 and allows no all-protocol ingress", () => {
    const rules = Object.values(resources.aws_vpc_security_group_ingress_rule ?? {});
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.ip_protocol).not.toBe("-1");
      expect(rule.from_port <= 22 && 22 <= rule.to_port).toBe(false);
    }
    // Rules only come as separate resources: no inline ingress, no aws_security_group_rule.
    const groups = Object.values(resources.aws_security_group ?? {});
    for (const group of groups) expect(group.ingress ?? []).toEqual([]);
    expect(resources.aws_security_group_rule).toBeUndefined();
    expect(template.key_name).toBeUndefined();
  });

  it("lets only the load balancer reach the instances, on the app port", () => {
    const instanceGroups: string[] = template.network_interfaces.flatMap((ni: Resource) => ni.security_groups);
    expect(instanceGroups).toHaveLength(1);
    expect(lb.security_groups).toHaveLength(1);
    const toInstances = Object.values(resources.aws_vpc_security_group_ingress_rule ?? {}).filter(
      (r) => r.security_group_id === instanceGroups[0],
    );
    expect(toInstances).toHaveLength(1);
    expect(toInstances[0]).toMatchObject({
      referenced_security_group_id: lb.security_groups[0],
      ip_protocol: "tcp",
      from_port: config.appPort,
      to_port: config.appPort,
    });
    expect(toInstances[0].cidr_ipv4).toBeUndefined();
    expect(toInstances[0].cidr_ipv6).toBeUndefined();
    for (const ni of template.network_interfaces) expect(ni.associate_public_ip_address).toBe("false");
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
    expect(parameters.map((p) => p.name).sort()).toEqual(expected.map((p) => p.name));
    for (const want of expected) {
      const parameter = parameters.find((p) => p.name === want.name)!;
      expect(parameter.type).toBe(want.type);
      if (want.type === "String") expect(unescapeTfString(parameter.value)).toBe(want.value);
      else {
        expect(parameter.key_id).toMatch(/^\$\{aws_kms_key\./);
        // Write-only: the value set out of band never reaches the state.
        expect(parameter.value).toBeUndefined();
        expect(parameter.value_wo_version).toBe(1);
      }
    }
  });

  it("boots with the script for this environment, expecting exactly the parameters the stack creates", () => {
    const match = /^\$\{base64encode\(("(?:[^"\\]|\\.)*")\)\}$/s.exec(template.user_data);
    expect(match).not.toBeNull();
    const script = unescapeTfString(JSON.parse(match![1]));
    expect(script).toBe(
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
    expect(expected === "" ? [] : expected.split(",")).toEqual(created);
  });

  it("ships logs to CloudWatch with the configured retention, encrypted", () => {
    const groups = Object.values(resources.aws_cloudwatch_log_group ?? {});
    expect(groups.length).toBeGreaterThan(0);
    for (const logs of groups) {
      expect(logs.retention_in_days).toBe(env.logRetentionDays);
      expect(logs.kms_key_id).toMatch(/^\$\{aws_kms_key\./);
    }
  });

  it("lets instances read their own environment's parameters and explicitly nothing else", () => {
    expect(resources.aws_iam_role_policy_attachment).toBeUndefined();
    const runtime = Object.values(resources.aws_iam_role_policy ?? {}).find((p) => p.name === "runtime")!;
    const statements: Resource[] = JSON.parse(runtime.policy).Statement;
    const deny = statements.find((s) => s.Effect === "Deny")!;
    expect(deny.Action).toEqual(["ssm:GetParameter*"]);
    expect(deny.NotResource.every((arn: string) => arn.includes(`:parameter/${config.appName}/${env.name}`))).toBe(true);
  });
});
