/** Construct tests: each construct synthesized alone with cdktf's Testing helpers and matchers. */
import type { Construct } from "constructs";
import { Testing, TerraformLocal } from "cdktf";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { resolveConfig } from "../managed/config-validation";
import type { NewVpcNetwork } from "../managed/config";
import { LoadBalancer, targetGroupPrefix, TLS_POLICY } from "../stacks/load-balancer";
import { INTERFACE_ENDPOINTS, Network, type NetworkProps } from "../stacks/network";
import { Parameters, SECRET_PLACEHOLDER } from "../stacks/parameters";
import { WebTierStack } from "../stacks/web-tier-stack";
import { configRevision, renderUserData } from "../managed/user-data";
import { exampleConfig } from "./support/synth";
import { tempDir, writeCliConfig } from "./support/terraform";

describe("LoadBalancer", () => {
  const cert = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
  const props = {
    name: "shop-prod",
    vpcId: "vpc-1",
    subnetIds: ["subnet-1", "subnet-2"],
    appPort: 3000,
    healthCheckPath: "/healthz",
    deletionProtection: true,
    region: "us-east-1",
    accountId: "123456789012",
    logRetentionDays: 90,
  };

  it("serves HTTPS with the TLS 1.3 policy and redirects HTTP when given a certificate", () => {
    const synth = Testing.synthScope((scope) => new LoadBalancer(scope, "lb", { ...props, certificateArn: cert }));
    expect(synth).toHaveResourceWithProperties(LbListener, { port: 443, protocol: "HTTPS", ssl_policy: TLS_POLICY, certificate_arn: cert });
    expect(synth).toHaveResourceWithProperties(LbListener, {
      port: 80,
      default_action: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", status_code: "HTTP_301" } }],
    });
    expect(synth).toHaveResourceWithProperties(Lb, {
      name: "shop-prod",
      enable_deletion_protection: true,
      drop_invalid_header_fields: true,
      lifecycle: { prevent_destroy: true },
    });
  });

  it("logs every request to a bucket only the region's ELB account may write, over TLS only, kept with deletion protection", () => {
    const synth = Testing.synthScope((scope) => new LoadBalancer(scope, "lb", props));
    const parsed = JSON.parse(synth);
    const lb = Object.values(parsed.resource.aws_lb)[0] as any;
    expect(lb.access_logs).toEqual({ bucket: expect.stringMatching(/aws_s3_bucket\./), enabled: true });
    expect(lb.depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_policy\./)]);
    const policy = JSON.parse((Object.values(parsed.resource.aws_s3_bucket_policy)[0] as any).policy);
    expect(policy.Statement).toEqual([
      // us-east-1's Elastic Load Balancing account (ELB User Guide, enable-access-logging.html).
      expect.objectContaining({
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::127311923021:root" },
        Action: "s3:PutObject",
        Resource: expect.stringMatching(/\/AWSLogs\/123456789012\/\*$/),
      }),
      expect.objectContaining({ Effect: "Deny", Principal: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
    const bucket = Object.values(parsed.resource.aws_s3_bucket)[0] as any;
    expect(bucket).toMatchObject({ bucket_prefix: "shop-prod-", force_destroy: false, lifecycle: { prevent_destroy: true } });
    expect(Object.values(parsed.resource.aws_s3_bucket_server_side_encryption_configuration)[0]).toMatchObject({
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    expect(Object.values(parsed.resource.aws_s3_bucket_public_access_block)[0]).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("grants log delivery to the service principal in regions opened since August 2022", () => {
    const synth = Testing.synthScope((scope) => new LoadBalancer(scope, "lb", { ...props, region: "eu-central-2" }));
    const policy = JSON.parse((Object.values(JSON.parse(synth).resource.aws_s3_bucket_policy)[0] as any).policy);
    expect(policy.Statement[0].Principal).toEqual({ Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
  });

  it("forwards plain HTTP without a certificate", () => {
    const synth = Testing.synthScope((scope) => new LoadBalancer(scope, "lb", props));
    const listeners = Object.values(JSON.parse(synth).resource.aws_lb_listener) as any[];
    expect(listeners).toEqual([
      expect.objectContaining({
        port: 80,
        protocol: "HTTP",
        default_action: [{ type: "forward", target_group_arn: expect.stringMatching(/aws_lb_target_group/) }],
      }),
    ]);
    expect(synth).not.toHaveResourceWithProperties(LbListener, { port: 443 });
  });

  it("keeps the target group prefix within 6 characters and free of a trailing hyphen", () => {
    expect(targetGroupPrefix("shop-prod")).toBe("shop-p");
    expect(targetGroupPrefix("abcde-staging")).toBe("abcde");
  });
});

describe("Parameters", () => {
  it("writes config literally and secrets as placeholders under the environment's path", () => {
    const synth = Testing.synthScope(
      (scope) =>
        new Parameters(scope, "p", {
          appName: "shop",
          environment: "dev",
          config: { PRICE: "${price} 100%{x}" },
          secrets: ["API_TOKEN"],
          keyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
        }),
    );
    expect(synth).toHaveResourceWithProperties(SsmParameter, {
      name: "/shop/dev/config/PRICE",
      type: "String",
      value: "$${price} 100%%{x}",
    });
    // Write-only: the placeholder is sent once and never stored; no `value` at all.
    expect(synth).toHaveResourceWithProperties(SsmParameter, {
      name: "/shop/dev/secret/API_TOKEN",
      type: "SecureString",
      value_wo: SECRET_PLACEHOLDER,
      value_wo_version: 1,
      key_id: "arn:aws:kms:us-east-1:123456789012:key/k",
    });
    const secret = Object.values(JSON.parse(synth).resource.aws_ssm_parameter).find((p: any) => p.type === "SecureString") as any;
    expect(secret.value).toBeUndefined();
    // Nothing but tags is updated in place (the provider's update would send an empty value; see
    // Parameters' comment): only a new value_wo_version, never used, writes again.
    expect(secret.lifecycle).toEqual({ ignore_changes: ["description", "key_id", "tier", "allowed_pattern", "data_type"] });
  });
});

describe("Network", () => {
  const network = resolveConfig({ appName: "shop", network: { azCount: 3 } }).network as NewVpcNetwork;
  const common = {
    namePrefix: "shop-dev",
    region: "us-east-1",
    accountId: "123456789012",
    natGateways: "per-az" as const,
    flowLogs: { logGroupName: "/shop/dev/vpc-flow-logs", retentionDays: 30, keyArn: "arn:aws:kms:us-east-1:123456789012:key/k" },
  };
  const withKey = (scope: Construct, props: Partial<NetworkProps>) =>
    new Network(scope, "n", { ...common, network, keyPolicy: new TerraformLocal(scope, "key_policy", "x"), ...props });

  it("puts a NAT gateway in each zone when asked, each zone routed through its own", () => {
    const synth = Testing.synthScope((scope) => withKey(scope, {}));
    const parsed = JSON.parse(synth);
    expect(Object.keys(parsed.resource.aws_nat_gateway)).toHaveLength(3);
    expect(Object.keys(parsed.resource.aws_subnet)).toHaveLength(6);
    expect(synth).toHaveResourceWithProperties(Subnet, { cidr_block: "10.0.128.0/20", availability_zone: "us-east-1a" });
    expect(synth).toHaveResource(NatGateway);
    const tables = Object.values(parsed.resource.aws_route_table).filter((t: any) => t.route[0].nat_gateway_id) as any[];
    expect(new Set(tables.map((t) => t.route[0].nat_gateway_id)).size).toBe(3);
  });

  it("shares one NAT gateway with single", () => {
    const parsed = JSON.parse(Testing.synthScope((scope) => withKey(scope, { natGateways: "single" })));
    expect(Object.keys(parsed.resource.aws_nat_gateway)).toHaveLength(1);
  });

  it("logs all VPC traffic through a role only this account's flow-log service may assume", () => {
    const parsed = JSON.parse(Testing.synthScope((scope) => withKey(scope, {})));
    expect(Object.values(parsed.resource.aws_flow_log)).toEqual([
      expect.objectContaining({ traffic_type: "ALL", log_destination_type: "cloud-watch-logs" }),
    ]);
    const role = Object.values(parsed.resource.aws_iam_role)[0] as any;
    expect(JSON.parse(role.assume_role_policy).Statement[0]).toEqual({
      Effect: "Allow",
      Principal: { Service: "vpc-flow-logs.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: {
        StringEquals: { "aws:SourceAccount": "123456789012" },
        ArnLike: { "aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*" },
      },
    });
    expect(Object.values(parsed.resource.aws_cloudwatch_log_group)).toEqual([
      expect.objectContaining({
        name: "/shop/dev/vpc-flow-logs",
        kms_key_id: common.flowLogs.keyArn,
        depends_on: ["local.key_policy"],
      }),
    ]);
  });

  it("adds the endpoints instances need without a NAT gateway when vpcEndpoints is on", () => {
    const withEndpoints = { ...network, vpcEndpoints: true };
    let made: Network | undefined;
    const parsed = JSON.parse(
      Testing.synthScope((scope) => {
        made = withKey(scope, { network: withEndpoints });
      }),
    );
    const endpoints = Object.values(parsed.resource.aws_vpc_endpoint) as any[];
    expect(endpoints.map((e) => `${e.vpc_endpoint_type}:${e.service_name}`).sort()).toEqual(
      ["Gateway:com.amazonaws.us-east-1.s3", ...INTERFACE_ENDPOINTS.map((s) => `Interface:com.amazonaws.us-east-1.${s}`)].sort(),
    );
    expect(endpoints.filter((e) => e.vpc_endpoint_type === "Interface").every((e) => e.private_dns_enabled === true)).toBe(true);
    expect(made!.egressPath.length).toBeGreaterThan(endpoints.length);
  });

  it("creates nothing for an existing VPC", () => {
    const existing = {
      mode: "existing" as const,
      vpcId: "vpc-1",
      publicSubnetIds: ["subnet-1", "subnet-2"],
      privateSubnetIds: ["subnet-3", "subnet-4"],
    };
    let made: Network | undefined;
    const synth = Testing.synthScope((scope) => {
      made = withKey(scope, { network: existing });
    });
    expect(JSON.parse(synth).resource ?? {}).toEqual({});
    expect(made!.privateSubnetIds).toEqual(["subnet-3", "subnet-4"]);
    expect(made!.egressPath).toEqual([]);
  });
});

describe("WebTierStack", () => {
  it("is valid Terraform and fully synthesizes", () => {
    // The matcher runs terraform init + validate itself: point it at the offline mirror.
    process.env.TF_CLI_CONFIG_FILE = writeCliConfig(tempDir("stacks-matcher"));
    const config = exampleConfig();
    const app = Testing.app();
    const stack = new WebTierStack(app, { config, environment: config.environments[0] });
    expect(Testing.fullSynth(stack)).toBeValidTerraform();
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(LaunchTemplate, {
      image_id: "${var.ami_id}",
      metadata_options: {
        http_endpoint: "enabled",
        http_tokens: "required",
        http_put_response_hop_limit: 1,
        instance_metadata_tags: "disabled",
      },
    });
  });
});

describe("user data", () => {
  it("has an empty expectation and a stable revision without config", () => {
    const script = renderUserData({ appName: "shop", environment: "dev", region: "eu-west-1", appPort: 3000, config: {}, secrets: [] });
    expect(script).toContain("\nEXPECTED_PARAMETERS=\n");
    expect(script).toMatch(/\nCONFIG_REVISION=[0-9a-f]{16}\n/);
  });

  it("changes its revision with any config value or secret name, not with key order", () => {
    const base = configRevision({ config: { A: "1", B: "2" }, secrets: ["S"] });
    expect(configRevision({ config: { B: "2", A: "1" }, secrets: ["S"] })).toBe(base);
    expect(configRevision({ config: { A: "1", B: "3" }, secrets: ["S"] })).not.toBe(base);
    expect(configRevision({ config: { A: "1", B: "2" }, secrets: ["T"] })).not.toBe(base);
    expect(configRevision({ config: { A: "1", B: "2", C: "" }, secrets: ["S"] })).not.toBe(base);
  });

  it("writes the boot environment and starts the service, nothing else", () => {
    const script = renderUserData({
      appName: "shop",
      environment: "dev",
      region: "eu-west-1",
      appPort: 3000,
      config: { B: "1", A: "2" },
      secrets: ["TOKEN"],
      healthCheckPath: "/healthz",
      bootTimeoutSeconds: 300,
    });
    expect(script.split("\n")).toEqual([
      "#!/bin/bash",
      "set -euo pipefail",
      "install -d -m 0755 /etc/immutable-app/shop",
      "cat > /etc/immutable-app/shop/boot.env <<'BOOT_ENV'",
      "APP_NAME=shop",
      "APP_ENV=dev",
      "AWS_REGION=eu-west-1",
      "PARAMETER_PATH=/shop/dev/",
      "LOG_GROUP_NAME=/shop/dev/app",
      "APP_PORT=3000",
      "EXPECTED_PARAMETERS=A,B,TOKEN",
      `CONFIG_REVISION=${configRevision({ config: { A: "2", B: "1" }, secrets: ["TOKEN"] })}`,
      // The group, its launch hook and the metric namespace carry the stack's own names (managed/names.ts).
      "ASG_NAME=shop-dev",
      "LIFECYCLE_HOOK=shop-dev-app-ready",
      "HEALTH_CHECK_PATH=/healthz",
      "BOOT_TIMEOUT_SECONDS=300",
      "METRICS_NAMESPACE=immutable-app/shop-dev",
      "WARM_POOL=",
      "BOOT_ENV",
      "systemctl enable --now immutable-app@shop.service immutable-app-ready@shop.service",
      "",
    ]);
  });
});
