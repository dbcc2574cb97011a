import type { App, TerraformStack } from "cdktf";
import type { AppConfig } from "../managed/config";
import { BootstrapStack } from "./bootstrap-stack";
import { WebTierStack } from "./web-tier-stack";

/**
 * One stack per environment, named after it: `cdktf deploy staging`, `terraform/<env>/` on export; and,
 * when the config names a GitHub repository, the `bootstrap` stack of CI's roles, last.
 */
export function addStacks(app: App, config: AppConfig): TerraformStack[] {
  const environments: TerraformStack[] = config.environments.map((environment) => new WebTierStack(app, { config, environment }));
  return config.github ? [...environments, new BootstrapStack(app, { config })] : environments;
}
