/** Every environment of the configuration synthesizes to a stack with the immutable web tier in it. */
import { Testing } from "cdktf";
import "cdktf/lib/testing/adapters/jest";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { addStacks } from "../stacks/app";
import { loadConfig } from "../stacks/load-config";
import { join } from "path";
import { CONFIG_FILE } from "../stacks/config";

Testing.setupJest();

const config = loadConfig(join(__dirname, "..", CONFIG_FILE));
const stacks = addStacks(Testing.app(), config);

describe.each(config.environments.map((env, i) => [env.name, env, stacks[i]] as const))("stack %s", (name, env, stack) => {
  const synth = Testing.synth(stack);

  it("is valid Terraform JSON", () => {
    expect(() => JSON.parse(synth)).not.toThrow();
  });

  it("runs the fleet in an Auto Scaling group sized as configured", () => {
    expect(synth).toHaveResourceWithProperties(AutoscalingGroup, {
      min_size: env.minCapacity,
      max_size: env.maxCapacity,
    });
    expect(synth).toHaveResource(LaunchTemplate);
  });

  it("puts a load balancer in front", () => {
    expect(synth).toHaveResourceWithProperties(Lb, { name: `${config.appName}-${name}` });
  });

  it("ships logs to CloudWatch and config to SSM", () => {
    expect(synth).toHaveResourceWithProperties(CloudwatchLogGroup, { retention_in_days: env.logRetentionDays });
    const keys = Object.keys({ ...config.config, ...env.config });
    if (keys.length + config.secrets.length > 0) expect(synth).toHaveResource(SsmParameter);
  });

  it("opens no SSH port", () => {
    expect(synth).not.toMatch(/"from_port":\s*22\b/);
  });
});
