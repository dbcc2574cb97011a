/**
 * The synthesized stacks against the real terraform and AWS provider 5.100.0 (offline mirror):
 * init, validate and an offline plan per environment, then assertions on `terraform show -json`.
 */
import { existsSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { resolveConfig } from "../managed/config-validation";
import { TLS_POLICY } from "../stacks/load-balancer";
import { SECRET_PLACEHOLDER } from "../stacks/parameters";
import { exampleConfigJson, readSynth, synthProject } from "./support/synth";
import { configOf, type PlanJson, type PlannedResource, resourcesOf, tempDir, TerraformDir, writeCliConfig } from "./support/terraform";

const AMI = "ami-0123456789abcdef0";
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

interface Planned {
  readonly plan: PlanJson;
  readonly synth: any;
  readonly tf: TerraformDir;
}

function planAll(configJson: Record<string, unknown>, vars: Record<string, string> = { ami_id: AMI }): Record<string, Planned> {
  const root = tempDir("stacks-tf");
  const cli = writeCliConfig(root);
  const dirs = synthProject(root, resolveConfig(configJson));
  const out: Record<string, Planned> = {};
  for (const [name, dir] of Object.entries(dirs)) {
    const tf = new TerraformDir(dir, cli);
    tf.makeOffline();
    out[name] = { plan: tf.plan(vars), synth: readSynth(dir), tf };
  }
  return out;
}

function one(plan: PlanJson, type: string): PlannedResource {
  const found = resourcesOf(plan, type);
  expect(found).toHaveLength(1);
  return found[0];
}

/** The synthesized resources of a type: the JSON terraform read, with lifecycle blocks. */
function synthOf(synth: any, type: string): any[] {
  return Object.values(synth.resource?.[type] ?? {});
}

/** Every reference under one attribute (nested blocks included) of the configuration of a type. */
function references(plan: PlanJson, type: string, attribute: string): string[] {
  const walk = (node: unknown): string[] => {
    if (Array.isArray(node)) return node.flatMap(walk);
    if (node && typeof node === "object") {
      return Object.entries(node).flatMap(([k, v]) => (k === "references" ? (v as string[]) : walk(v)));
    }
    return [];
  };
  return configOf(plan, type).flatMap((r) => walk(r.expressions?.[attribute]));
}

describe("example config: every environment validates and plans offline", () => {
  const example = exampleConfigJson();
  let planned: Record<string, Planned>;
  beforeAll(() => {
    planned = planAll(example);
  }, 300_000);

  it("plans one stack per environment", () => {
    expect(Object.keys(planned).sort()).toEqual(["production", "staging"]);
    for (const { plan } of Object.values(planned)) {
      expect(plan.resource_changes.length).toBeGreaterThan(30);
      expect(plan.resource_changes.every((c) => c.change.actions.join() === "create")).toBe(true);
    }
  });

  it.each(["staging", "production"])("%s: launch template runs the baked image with IMDSv2, encrypted gp3, no key, no public IP", (env) => {
    const { plan, synth } = planned[env];
    const lt = one(plan, "aws_launch_template").values;
    expect(lt.image_id).toBe(AMI);
    expect(lt.metadata_options).toEqual([
      expect.objectContaining({ http_tokens: "required", http_put_response_hop_limit: 1, http_endpoint: "enabled" }),
    ]);
    expect(lt.block_device_mappings).toEqual([
      expect.objectContaining({
        device_name: "/dev/sda1",
        ebs: [expect.objectContaining({ volume_type: "gp3", encrypted: "true" })],
      }),
    ]);
    expect(lt.key_name ?? null).toBeNull();
    // No public address even in a subnet that maps them (existing VPCs): set on the interface itself.
    expect(lt.network_interfaces).toEqual([expect.objectContaining({ device_index: 0, associate_public_ip_address: "false" })]);
    expect(lt.vpc_security_group_ids ?? []).toEqual([]);
    expect(references(plan, "aws_launch_template", "network_interfaces")).toEqual(
      expect.arrayContaining([expect.stringMatching(/^aws_security_group\.fleet_sg/)]),
    );
    expect(lt.name_prefix).toBe(`demo-app-${env}-`);
    expect(lt.name ?? null).toBeNull();
    expect(lt.tag_specifications.map((t: any) => t.resource_type).sort()).toEqual(["instance", "volume"]);
    // default_tags do not reach what the group launches: the template tags instances and volumes itself.
    for (const spec of lt.tag_specifications) {
      expect(spec.tags).toEqual({
        Name: `demo-app-${env}`,
        app: "demo-app",
        environment: env,
        "managed-by": "create-immutable-app",
        team: "platform",
        "cost-center": "1234",
      });
    }
    expect(synthOf(synth, "aws_launch_template")[0].lifecycle).toEqual({ create_before_destroy: true });
    expect(references(plan, "aws_launch_template", "iam_instance_profile")).toEqual(
      expect.arrayContaining([expect.stringMatching(/^aws_iam_instance_profile\.[^.]+\.arn$/)]),
    );
    // Instances live in private subnets that never hand out public addresses.
    for (const subnet of resourcesOf(plan, "aws_subnet")) expect(subnet.values.map_public_ip_on_launch).toBe(false);
  });

  it.each(["staging", "production"])("%s: user_data only starts the pre-baked service", (env) => {
    const lt = one(planned[env].plan, "aws_launch_template").values;
    const script = Buffer.from(lt.user_data, "base64").toString("utf8");
    expect(script).toContain("systemctl enable --now immutable-app@demo-app.service");
    expect(script).toContain(`PARAMETER_PATH=/demo-app/${env}/`);
    expect(script).toContain(`LOG_GROUP_NAME=/demo-app/${env}/app`);
    expect(script).not.toMatch(/\b(apt|apt-get|yum|dnf|pip3?|npm|curl|wget|snap|docker pull)\b/);
    expect(script).toContain("EXPECTED_PARAMETERS=DATABASE_PASSWORD,GREETING,LOG_LEVEL\n");
    expect(script).toMatch(/CONFIG_REVISION=[0-9a-f]{16}\n/);
  });

  it.each(["staging", "production"])("%s: instance role reads only its own parameters and key, writes only its own logs", (env) => {
    const { plan, synth } = planned[env];
    // No managed policy: AmazonSSMManagedInstanceCore allows ssm:GetParameter(s) on every parameter.
    expect(resourcesOf(plan, "aws_iam_role_policy_attachment")).toEqual([]);
    const runtime = synthOf(synth, "aws_iam_role_policy").find((p) => p.name === "runtime");
    const policy = JSON.parse(runtime.policy);
    // The account id is read off the key ARN: a local, so the policy stays plain JSON.
    expect(Object.values(synth.locals)).toEqual([expect.stringMatching(/^\$\{element\(split\(":", aws_kms_key\.[^.]+\.arn\), 4\)\}$/)]);
    const statements: any[] = policy.Statement;
    expect(statements.map((s) => s.Sid)).toEqual([
      "SessionManager",
      "ReadOwnParameters",
      "DecryptOwnSecrets",
      "WriteOwnLogs",
      "CompleteOwnLaunch",
      "ReportOwnBootFailures",
      "NoOtherParameters",
    ]);
    // The launch lifecycle hook of its own group, by name; boot failures only in its environment's namespace.
    expect(statements.find((s) => s.Sid === "CompleteOwnLaunch")).toEqual({
      Sid: "CompleteOwnLaunch",
      Effect: "Allow",
      Action: "autoscaling:CompleteLifecycleAction",
      Resource: expect.stringMatching(
        new RegExp(`^arn:aws:autoscaling:eu-west-1:.*:autoScalingGroup:\\*:autoScalingGroupName/demo-app-${env}$`),
      ),
    });
    expect(statements.find((s) => s.Sid === "ReportOwnBootFailures")).toEqual({
      Sid: "ReportOwnBootFailures",
      Effect: "Allow",
      Action: "cloudwatch:PutMetricData",
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": `immutable-app/demo-app-${env}` } },
    });
    for (const s of statements.filter((x) => x.Effect === "Allow" && !["SessionManager", "ReportOwnBootFailures"].includes(x.Sid))) {
      expect([s.Action].flat().every((a: string) => !a.includes("*"))).toBe(true);
      expect([s.Resource].flat().every((r: string) => r !== "*")).toBe(true);
    }
    // Session Manager's minimal set (Systems Manager User Guide, getting-started-create-iam-instance-profile.html).
    expect(statements[0]).toEqual({
      Sid: "SessionManager",
      Effect: "Allow",
      Resource: "*",
      Action: [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ],
    });
    const read = statements.find((s) => s.Sid === "ReadOwnParameters");
    expect(statements.find((s) => s.Sid === "NoOtherParameters")).toEqual({
      Sid: "NoOtherParameters",
      Effect: "Deny",
      Action: ["ssm:GetParameter*"],
      NotResource: read.Resource,
    });
    expect(read.Resource).toEqual([
      expect.stringMatching(new RegExp(`^arn:aws:ssm:eu-west-1:\\$\\{local\\.key_account_id\\}:parameter/demo-app/${env}$`)),
      expect.stringMatching(new RegExp(`:parameter/demo-app/${env}/\\*$`)),
    ]);
    const decrypt = statements.find((s) => s.Sid === "DecryptOwnSecrets");
    expect(decrypt.Action).toBe("kms:Decrypt");
    expect(decrypt.Resource).toMatch(/^\$\{aws_kms_key\.[A-Za-z0-9_-]+\.arn\}$/);
    expect(decrypt.Condition.StringEquals["kms:ViaService"]).toBe("ssm.eu-west-1.amazonaws.com");
    const logs = statements.find((s) => s.Sid === "WriteOwnLogs");
    expect(logs.Resource).toEqual([
      expect.stringContaining("aws_cloudwatch_log_group"),
      expect.stringMatching(/aws_cloudwatch_log_group.*:\*$/),
    ]);
  });

  it.each(["staging", "production"])(
    "%s: the group starts on the template's numbered version and leaves every later one to the rollout",
    (env) => {
      const { plan, synth } = planned[env];
      const asg = one(plan, "aws_autoscaling_group").values;
      expect(references(plan, "aws_autoscaling_group", "launch_template")).toEqual(
        expect.arrayContaining([expect.stringMatching(/^aws_launch_template\.[^.]+\.latest_version$/)]),
      );
      expect(JSON.stringify(synthOf(synth, "aws_autoscaling_group"))).not.toContain("$Latest");
      expect(asg.health_check_type).toBe("ELB");
      expect(asg.health_check_grace_period).toBeGreaterThan(0);
      // No provider-driven refresh: it would save the new version on the group before refreshing.
      expect(asg.instance_refresh ?? []).toEqual([]);
      const asgSynth = synthOf(synth, "aws_autoscaling_group")[0];
      expect(asgSynth.lifecycle.ignore_changes).toEqual(["desired_capacity", "launch_template[0].version", "initial_lifecycle_hook"]);
      // A new group's first instances wait for the launch hook too.
      expect(asgSynth.initial_lifecycle_hook).toEqual([
        {
          name: `demo-app-${env}-app-ready`,
          lifecycle_transition: "autoscaling:EC2_INSTANCE_LAUNCHING",
          default_result: "ABANDON",
          heartbeat_timeout: 600,
        },
      ]);
      // The route out, the egress rule and the instance policy exist before the first instance starts.
      expect(asgSynth.depends_on).toEqual(
        expect.arrayContaining([
          "aws_vpc_security_group_egress_rule.fleet_https_out",
          "aws_iam_role_policy.instance_runtime",
          expect.stringMatching(/^aws_nat_gateway\./),
          expect.stringMatching(/^aws_route_table_association\.network_private_/),
        ]),
      );
      // The rollout's input: the new numbered version as the desired configuration, with AWS-valid preferences.
      const refresh = JSON.parse(synth.output.instance_refresh.value);
      expect(refresh).toEqual({
        AutoScalingGroupName: "${aws_autoscaling_group.fleet_asg.name}",
        Strategy: "Rolling",
        DesiredConfiguration: {
          LaunchTemplate: {
            LaunchTemplateId: "${aws_launch_template.fleet_template.id}",
            Version: "${aws_launch_template.fleet_template.latest_version}",
          },
        },
        Preferences: {
          MinHealthyPercentage: 90,
          MaxHealthyPercentage: 190,
          InstanceWarmup: 60,
          SkipMatching: true,
          AutoRollback: true,
          ScaleInProtectedInstances: "Refresh",
          StandbyInstances: "Terminate",
          AlarmSpecification: {
            Alarms: ["error-rate", "latency", "unhealthy", "boot-failures"].map((a) => `demo-app-${env}-rollout-${a}`),
          },
          // Staging runs one instance: a single checkpoint at 100 needs no pause. Production's two: a
          // canary of one (50 %), a pause the alarms fit in, then the other; a longer bake in production.
          ...(env === "production" ? { CheckpointPercentages: [50, 100], CheckpointDelay: 300 } : {}),
          BakeTime: env === "production" ? 600 : 300,
        },
      });
      const alarms = resourcesOf(plan, "aws_cloudwatch_metric_alarm").map((a) => a.values);
      expect(alarms.map((a) => [a.alarm_name, a.metric_name ?? "(metric math)", a.threshold, a.treat_missing_data]).sort()).toEqual([
        [`demo-app-${env}-rollout-boot-failures`, "BootFailures", 0, "notBreaching"],
        [`demo-app-${env}-rollout-error-rate`, "(metric math)", 1, "notBreaching"],
        [`demo-app-${env}-rollout-latency`, "TargetResponseTime", 2, "notBreaching"],
        [`demo-app-${env}-rollout-unhealthy`, "UnHealthyHostCount", 0, "notBreaching"],
      ]);
      // The error rate: load balancer and target 5xx over requests, of the whole load balancer, and 0 %
      // in a minute with fewer than rollbackMinRequestsPerMinute requests.
      const rate = alarms.find((a) => a.alarm_name.endsWith("error-rate"))!;
      expect(
        rate.metric_query
          .filter((q: any) => q.metric?.length)
          .map((q: any) => q.metric[0].metric_name)
          .sort(),
      ).toEqual(["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "RequestCount"]);
      expect(rate.metric_query.find((q: any) => q.return_data).expression).toBe("IF(served >= 10, 100 * errors / served, 0)");
      expect([rate.evaluation_periods, rate.datapoints_to_alarm]).toEqual([3, 2]);
      // The launch lifecycle hook, abandoning an instance that does not answer in time.
      expect(resourcesOf(plan, "aws_autoscaling_lifecycle_hook").map((h) => h.values)).toEqual([
        expect.objectContaining({
          name: `demo-app-${env}-app-ready`,
          autoscaling_group_name: `demo-app-${env}`,
          lifecycle_transition: "autoscaling:EC2_INSTANCE_LAUNCHING",
          default_result: "ABANDON",
          heartbeat_timeout: 600,
        }),
      ]);
      // t3 in unlimited credit mode (new instances can burst at boot), the CPU target at its 20 % baseline.
      expect(one(plan, "aws_launch_template").values.credit_specification).toEqual([{ cpu_credits: "unlimited" }]);
      expect(one(plan, "aws_autoscaling_policy").values.target_tracking_configuration[0].target_value).toBe(20);
      // Replacements outside a refresh launch before they terminate, as a release does.
      expect(asg.instance_maintenance_policy).toEqual([{ min_healthy_percentage: 90, max_healthy_percentage: 190 }]);
      // One attachment mechanism: inline target_group_arns, no attachment resources.
      expect(asgSynth.target_group_arns).toHaveLength(1);
      expect(resourcesOf(plan, "aws_autoscaling_attachment")).toHaveLength(0);
      expect(resourcesOf(plan, "aws_lb_target_group_attachment")).toHaveLength(0);
      expect(Object.fromEntries(asg.tag.map((t: any) => [t.key, t.value]))).toEqual({
        Name: `demo-app-${env}`,
        app: "demo-app",
        environment: env,
        "managed-by": "create-immutable-app",
        team: "platform",
        "cost-center": "1234",
      });
      expect(asg.tag.every((t: any) => t.propagate_at_launch === true)).toBe(true);
      // Subnets: the private ones, in two distinct zones.
      const subnetRefs = asgSynth.vpc_zone_identifier as string[];
      expect(subnetRefs).toHaveLength(2);
      expect(subnetRefs.every((r) => /aws_subnet\.network_private_\d/.test(r))).toBe(true);
      const zones = resourcesOf(plan, "aws_subnet")
        .filter((s) => s.name.includes("private"))
        .map((s) => s.values.availability_zone);
      expect(new Set(zones).size).toBe(2);
      const policy = one(plan, "aws_autoscaling_policy").values;
      expect(policy.policy_type).toBe("TargetTrackingScaling");
      expect(policy.target_tracking_configuration[0].predefined_metric_specification[0].predefined_metric_type).toBe(
        "ASGAverageCPUUtilization",
      );
    },
  );

  it("a config change is a new launch template version: the environments' revisions differ with their values", () => {
    const revision = (env: string) =>
      /CONFIG_REVISION=([0-9a-f]+)/.exec(
        Buffer.from(one(planned[env].plan, "aws_launch_template").values.user_data, "base64").toString(),
      )![1];
    // production overrides LOG_LEVEL, so the same keys give another revision.
    expect(revision("staging")).not.toBe(revision("production"));
  });

  it("capacities come from the config", () => {
    const staging = one(planned.staging.plan, "aws_autoscaling_group").values;
    const production = one(planned.production.plan, "aws_autoscaling_group").values;
    expect([staging.min_size, staging.max_size, staging.desired_capacity]).toEqual([1, 2, 1]);
    expect([production.min_size, production.max_size, production.desired_capacity]).toEqual([2, 6, 2]);
    expect(one(planned.production.plan, "aws_launch_template").values.instance_type).toBe("t3.medium");
  });

  it.each(["staging", "production"])(
    "%s: security groups: HTTP in to the ALB, app port from the ALB only, no port 22, every rule described",
    (env) => {
      const { plan, synth } = planned[env];
      const ingress = resourcesOf(plan, "aws_vpc_security_group_ingress_rule");
      const egress = resourcesOf(plan, "aws_vpc_security_group_egress_rule");
      for (const rule of [...ingress, ...egress]) {
        expect(rule.values.description).toMatch(/\S{3,}/);
        const { from_port: from, to_port: to, ip_protocol: proto } = rule.values;
        expect(proto).not.toBe("-1");
        expect(from <= 22 && 22 <= to).toBe(false);
      }
      for (const group of resourcesOf(plan, "aws_security_group")) {
        expect(group.values.ingress ?? []).toEqual([]);
        expect(group.values.egress ?? []).toEqual([]);
      }
      const albIngress = ingress.filter((r) => r.values.cidr_ipv4 === "0.0.0.0/0").map((r) => r.values.from_port);
      expect(albIngress).toEqual([80]);
      const appIngress = synthOf(synth, "aws_vpc_security_group_ingress_rule").filter((r) => r.referenced_security_group_id);
      expect(appIngress).toHaveLength(1);
      expect(appIngress[0]).toMatchObject({ from_port: 8080, to_port: 8080 });
      expect(appIngress[0].security_group_id).toMatch(/aws_security_group\.fleet_sg/);
      expect(appIngress[0].referenced_security_group_id).toMatch(/aws_security_group\.load_balancer_sg/);
      expect(ingress.filter((r) => r.values.from_port === 8080)).toHaveLength(1);
      // The new VPC's default security group is not managed (stacks/network.ts says why; checkov's CKV2_AWS_12 skip).
      expect(plan.resource_changes.filter((r: any) => r.type === "aws_default_security_group")).toEqual([]);
    },
  );

  it.each(["staging", "production"])(
    "%s: load balancer hardening, plain HTTP listener without a certificate, explicit target health check",
    (env) => {
      const { plan, synth } = planned[env];
      const lb = one(plan, "aws_lb").values;
      expect(lb.drop_invalid_header_fields).toBe(true);
      expect(lb.desync_mitigation_mode).not.toBe("monitor");
      expect(lb.enable_deletion_protection).toBe(env === "production");
      expect(lb.internal).toBe(false);
      const listeners = resourcesOf(plan, "aws_lb_listener");
      expect(listeners.map((l) => [l.values.port, l.values.protocol, l.values.default_action[0].type])).toEqual([[80, "HTTP", "forward"]]);
      const tg = one(plan, "aws_lb_target_group").values;
      expect(tg.health_check).toEqual([expect.objectContaining({ path: "/", enabled: true, protocol: "HTTP", matcher: "200" })]);
      expect(tg.slow_start).toBe(0);
      expect(Number(tg.deregistration_delay)).toBeLessThanOrEqual(60);
      expect(tg.name_prefix.length).toBeLessThanOrEqual(6);
      expect(tg.port).toBe(8080);
      expect(synthOf(synth, "aws_lb_target_group")[0].lifecycle).toEqual({ create_before_destroy: true });
    },
  );

  it.each(["staging", "production"])(
    "%s: config as String parameters, secrets as write-only SecureString placeholders with a rotating key",
    (env) => {
      const { plan, synth } = planned[env];
      const params = resourcesOf(plan, "aws_ssm_parameter").map((p) => p.values);
      const byName = Object.fromEntries(params.map((p) => [p.name, p]));
      expect(Object.keys(byName).sort()).toEqual([
        `/demo-app/${env}/config/GREETING`,
        `/demo-app/${env}/config/LOG_LEVEL`,
        `/demo-app/${env}/secret/DATABASE_PASSWORD`,
      ]);
      // ${...} and %{...} written by the user arrive literally.
      expect(byName[`/demo-app/${env}/config/GREETING`]).toMatchObject({ type: "String", value: "Hello, ${name}: 100% literal" });
      expect(byName[`/demo-app/${env}/config/LOG_LEVEL`].value).toBe(env === "production" ? "warn" : "info");
      expect(byName[`/demo-app/${env}/secret/DATABASE_PASSWORD`].type).toBe("SecureString");
      const secret = synthOf(synth, "aws_ssm_parameter").find((p) => p.type === "SecureString");
      expect(secret).toMatchObject({ value_wo: SECRET_PLACEHOLDER, value_wo_version: 1 });
      expect(secret.value).toBeUndefined();
      // Write-only: not even the placeholder is planned into the state.
      expect(byName[`/demo-app/${env}/secret/DATABASE_PASSWORD`].value ?? null).toBeNull();
      expect(secret.key_id).toMatch(/^\$\{aws_kms_key\./);
      expect(one(plan, "aws_kms_key").values.enable_key_rotation).toBe(true);
      expect(one(plan, "aws_kms_alias").values.name).toBe(`alias/demo-app-${env}-secrets`);
    },
  );

  it.each(["staging", "production"])("%s: logs, default tags, outputs, relative local backend, no data source", (env) => {
    const { plan, synth } = planned[env];
    const groups = resourcesOf(plan, "aws_cloudwatch_log_group").map((g) => g.values);
    expect(groups.map((g) => g.name).sort()).toEqual([
      `/demo-app/${env}/app`,
      `/demo-app/${env}/sessions`,
      `/demo-app/${env}/vpc-flow-logs`,
    ]);
    for (const group of groups) expect(group.retention_in_days).toBe(env === "production" ? 90 : 30);
    // Encrypted with the environment's key, whose policy lets CloudWatch Logs use it for these groups only.
    for (const group of synthOf(synth, "aws_cloudwatch_log_group")) {
      expect(group.kms_key_id).toMatch(/^\$\{aws_kms_key\.key_key\.arn\}$/);
      expect(group.depends_on).toEqual(["aws_kms_key_policy.key_policy"]);
    }
    const keyPolicy = JSON.parse(synthOf(synth, "aws_kms_key_policy")[0].policy);
    expect(keyPolicy.Statement[1]).toMatchObject({
      Principal: { Service: "logs.eu-west-1.amazonaws.com" },
      Condition: {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": [expect.stringMatching(new RegExp(`:log-group:/demo-app/${env}/\\*$`))] },
      },
    });
    expect(synth.terraform.required_version).toBe(">= 1.11.0");
    const tags = plan.configuration.provider_config.aws.expressions.default_tags[0].tags.constant_value;
    expect(tags).toEqual({
      app: "demo-app",
      environment: env,
      "managed-by": "create-immutable-app",
      team: "platform",
      "cost-center": "1234",
    });
    expect(Object.keys(plan.configuration.root_module.outputs ?? {}).sort()).toEqual([
      "alb_dns_name",
      "asg_name",
      "canary",
      "checkpoint_delay_seconds",
      "health_check_url",
      "image_parameter",
      "instance_refresh",
      "launch_template_id",
      "launch_template_version",
      "parameter_path",
      "probe_requests_per_second",
      "rollout_alarms",
      "secret_parameters",
    ]);
    expect(plan.planned_values.outputs?.secret_parameters).toMatchObject({ value: `/demo-app/${env}/secret/DATABASE_PASSWORD` });
    expect(plan.planned_values.outputs?.parameter_path).toMatchObject({ value: `/demo-app/${env}/` });
    const backendPath: string = synth.terraform.backend.local.path;
    expect(isAbsolute(backendPath)).toBe(false);
    expect(backendPath).toBe(`../../../terraform.${env}.tfstate`);
    expect(synth.data ?? {}).toEqual({});
    expect(plan.configuration.root_module.resources.filter((r) => r.mode === "data")).toEqual([]);
  });

  it("refuses an ami_id that is not an AMI id, naming the variable", () => {
    const result = planned.staging.tf.run(["plan", "-input=false", "-no-color", "-lock=false", "-var", "ami_id=ubuntu-latest"]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/ami_id value must look like ami-/);
    expect(result.stderr).toContain("var.ami_id");
  });
});

describe("variant: certificate, existing VPC, resolve:ssm image, Amazon Linux, S3 backend", () => {
  const variant = {
    ...exampleConfigJson(),
    certificateArn: CERT,
    amiSource: "resolve:ssm:/demo-app/image/ami-id",
    network: {
      mode: "existing",
      vpcId: "vpc-0123456789abcdef0",
      publicSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      privateSubnetIds: ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
    },
    image: { baseOs: "al2023" },
    backend: { bucket: "acme-terraform-state", keyPrefix: "apps/demo-app", region: "eu-central-1" },
    environments: [{ name: "production", minCapacity: 2, maxCapacity: 4 }],
  };
  let planned: Planned;
  beforeAll(() => {
    const root = tempDir("stacks-variant");
    const cli = writeCliConfig(root);
    const dir = synthProject(root, resolveConfig(variant)).production;
    const tf = new TerraformDir(dir, cli);
    // The S3 backend needs AWS: validate it as written, then plan against a local backend override.
    tf.ok(["init", "-backend=false", "-input=false", "-no-color"]);
    tf.ok(["validate", "-no-color"]);
    const synth = readSynth(dir);
    writeFileSync(
      join(dir, "backend_override.tf.json"),
      JSON.stringify({ terraform: { backend: { local: { path: "terraform.tfstate" } } } }),
    );
    tf.makeOffline();
    planned = { plan: tf.plan({}), synth, tf };
  }, 300_000);

  it("S3 state with native locking and encryption", () => {
    expect(planned.synth.terraform.backend).toEqual({
      s3: {
        bucket: "acme-terraform-state",
        key: "apps/demo-app/production.tfstate",
        region: "eu-central-1",
        encrypt: true,
        use_lockfile: true,
      },
    });
  });

  it("HTTPS with the TLS 1.3 policy, port 80 redirects to 443, both open in the ALB group", () => {
    const listeners = resourcesOf(planned.plan, "aws_lb_listener").map((l) => l.values);
    const https = listeners.find((l) => l.port === 443)!;
    expect(https).toMatchObject({ protocol: "HTTPS", ssl_policy: TLS_POLICY, certificate_arn: CERT });
    expect(https.default_action[0].type).toBe("forward");
    const http = listeners.find((l) => l.port === 80)!;
    expect(http.default_action[0]).toMatchObject({
      type: "redirect",
      redirect: [expect.objectContaining({ port: "443", protocol: "HTTPS", status_code: "HTTP_301" })],
    });
    const open = resourcesOf(planned.plan, "aws_vpc_security_group_ingress_rule").filter((r) => r.values.cidr_ipv4 === "0.0.0.0/0");
    expect(open.map((r) => r.values.from_port).sort()).toEqual([443, 80]);
    expect(planned.plan.configuration.root_module.outputs?.health_check_url).toBeDefined();
  });

  it("uses the existing VPC and subnets and creates no network", () => {
    for (const type of ["aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_internet_gateway"]) {
      expect(resourcesOf(planned.plan, type)).toHaveLength(0);
    }
    expect(one(planned.plan, "aws_autoscaling_group").values.vpc_zone_identifier.sort()).toEqual([
      "subnet-0123456789abcdef2",
      "subnet-0123456789abcdef3",
    ]);
    expect(one(planned.plan, "aws_lb").values.subnets.sort()).toEqual(["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
    expect(one(planned.plan, "aws_lb_target_group").values.vpc_id).toBe("vpc-0123456789abcdef0");
  });

  it("resolves the image from SSM at launch, has no ami_id variable, and maps the Amazon Linux root device", () => {
    const lt = one(planned.plan, "aws_launch_template").values;
    expect(lt.image_id).toBe("resolve:ssm:/demo-app/image/ami-id");
    expect(lt.block_device_mappings[0].device_name).toBe("/dev/xvda");
    // AWS cannot roll a refresh back to a template whose image is an SSM parameter; every instance is
    // replaced, since the image behind an unchanged template may be new.
    expect(JSON.parse(planned.synth.output.instance_refresh.value).Preferences).toMatchObject({ AutoRollback: false, SkipMatching: false });
    expect(planned.synth.output.image_parameter.value).toBe("/demo-app/image/ami-id");
    expect(planned.synth.variable ?? {}).toEqual({});
  });

  it("writes no state next to the project during tests", () => {
    expect(existsSync(join(__dirname, "..", "terraform.production.tfstate"))).toBe(false);
  });
});
