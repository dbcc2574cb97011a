import { App } from "cdktf";
import { AppConfig } from "../managed/config";
import { WebTierStack } from "./web-tier-stack";

/** One stack per environment, named after it: `cdktf deploy staging`, `terraform/<env>/` on export. */
export function addStacks(app: App, config: AppConfig): WebTierStack[] {
  return config.environments.map((environment) => new WebTierStack(app, { config, environment }));
}
