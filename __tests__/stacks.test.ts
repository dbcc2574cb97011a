/** Construct tests: each construct synthesized alone with cdktf's Testing helpers and matchers. */
import { Testing } from "cdktf";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { resolveConfig } from "../managed/config-validation";
import { NewVpcNetwork } from "../managed/config";
import { LoadBalancer, targetGroupPrefix, TLS_POLICY } from "../stacks/load-balancer";
import { Network } from "../stacks/network";
import { Parameters, SECRET_PLACEHOLDER } from "../stacks/parameters";
import { WebTierStack } from "../stacks/web-tier-stack";
import { configRevision, renderUserData } from "../managed/user-data";
import { exampleConfig } from "./support/synth";
import { tempDir, writeCliConfig } from "./support/terraform";

describe("LoadBalancer", () => {
  const cert = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
  const props = { name: "shop-prod", vpcId: "vpc-1", subnetIds: ["subnet-1", "subnet-2"], appPort: 3000, healthCheckPath: "/healthz", deletionProtection: true };

  it("serves HTTPS with the TLS 1.3 policy and redirects HTTP when given a certificate", () => {
    const synth = Testing.synthScope((scope) => new LoadBalancer(scope, "lb", { ...props, certificateArn: cert }));
    expect(synth).toHaveResourceWithProperties(LbListener, { port: 443, protocol: "HTTPS", ssl_policy: TLS_POLICY, certificate_arn: cert });
    expect(synth).toHaveResourceWithProperties(LbListener, {
      port: 80, default_action: [{ type: "redirect", redirect: { port: "443", protocol: "HTTPS", status_code: "HTTP_301" } }],
    });
    expect(synth).toHaveResourceWithProperties(Lb, { name: "shop-prod", enable_deletion_protection: true, drop_invalid_header_fields: true });
  });

  it("forwards plain HTTP without a certificate", () => {
    const synth = Testing.synthScope((scope) => new LoadBalancer(scope, "lb", props));
    const listeners = Object.values(JSON.parse(synth).resource.aws_lb_listener) as any[];
    expect(listeners).toEqual([expect.objectContaining({
      port: 80, protocol: "HTTP", default_action: [{ type: "forward", target_group_arn: expect.stringMatching(/aws_lb_target_group/) }],
    })]);
    expect(synth).not.toHaveResourceWithProperties(LbListener, { port: 443 });
  });

  it("keeps the target group prefix within 6 characters and free of a trailing hyphen", () => {
    expect(targetGroupPrefix("shop-prod")).toBe("shop-p");
    expect(targetGroupPrefix("abcde-staging")).toBe("abcde");
  });
});

describe("Parameters", () => {
  it("writes config literally and secrets as placeholders under the environment's path", () => {
    const synth = Testing.synthScope((scope) => new Parameters(scope, "p", {
      appName: "shop", environment: "dev", config: { PRICE: "${price} 100%{x}" }, secrets: ["API_TOKEN"],
    }));
    expect(synth).toHaveResourceWithProperties(SsmParameter, { name: "/shop/dev/config/PRICE", type: "String", value: "$${price} 100%%{x}" });
    expect(synth).toHaveResourceWithProperties(SsmParameter, {
      name: "/shop/dev/secret/API_TOKEN", type: "SecureString", value: SECRET_PLACEHOLDER, lifecycle: { ignore_changes: ["value"] },
    });
    expect(synth).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
  });
});

describe("Network", () => {
  const network = resolveConfig({ appName: "shop", network: { azCount: 3, natGateways: "per-az" } }).network as NewVpcNetwork;

  it("puts a NAT gateway in each zone when asked", () => {
    const synth = Testing.synthScope((scope) => new Network(scope, "n", { network, namePrefix: "shop-dev" }));
    const parsed = JSON.parse(synth);
    expect(Object.keys(parsed.resource.aws_nat_gateway)).toHaveLength(3);
    expect(Object.keys(parsed.resource.aws_subnet)).toHaveLength(6);
    expect(synth).toHaveResourceWithProperties(Subnet, { cidr_block: "10.0.128.0/20", availability_zone: "us-east-1a" });
    expect(synth).toHaveResource(NatGateway);
  });

  it("creates nothing for an existing VPC", () => {
    const existing = { mode: "existing" as const, vpcId: "vpc-1", publicSubnetIds: ["subnet-1", "subnet-2"], privateSubnetIds: ["subnet-3", "subnet-4"] };
    let made: Network | undefined;
    const synth = Testing.synthScope((scope) => { made = new Network(scope, "n", { network: existing, namePrefix: "shop-dev" }); });
    expect(JSON.parse(synth).resource ?? {}).toEqual({});
    expect(made!.privateSubnetIds).toEqual(["subnet-3", "subnet-4"]);
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
      metadata_options: { http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1, instance_metadata_tags: "disabled" },
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
      appName: "shop", environment: "dev", region: "eu-west-1", appPort: 3000, config: { B: "1", A: "2" }, secrets: ["TOKEN"],
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
      "BOOT_ENV",
      "systemctl enable --now immutable-app@shop.service",
      "",
    ]);
  });
});
