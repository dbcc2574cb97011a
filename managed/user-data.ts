import { createHash } from "node:crypto";
import { DEFAULTS } from "./config";
import {
  bootEnvFile,
  configDir,
  launchHookName,
  logGroupName,
  parameterPath,
  readyUnitName,
  releaseMetricsNamespace,
  resourcePrefix,
  serviceUnitName,
} from "./names";

export interface UserDataProps {
  readonly appName: string;
  readonly environment: string;
  readonly region: string;
  readonly appPort: number;
  /** Plain config values of the environment (overrides merged). */
  readonly config: Readonly<Record<string, string>>;
  /** Secret names of the environment. */
  readonly secrets: readonly string[];
  /**
   * The path the boot script asks the app locally before it completes the launch lifecycle hook.
   * @default "/"
   */
  readonly healthCheckPath?: string;
  /**
   * Seconds the launch lifecycle hook waits for that answer.
   * @default DEFAULTS.environment.bootTimeoutSeconds
   */
  readonly bootTimeoutSeconds?: number;
  /**
   * The warm pool's state, if the group has one: Running and Hibernated instances complete the hook again
   * when they leave the pool, without a new boot.
   * @default none
   */
  readonly warmPool?: "Stopped" | "Running" | "Hibernated";
}

/**
 * The whole boot-time script: it tells the pre-baked image which environment it serves and starts the
 * service. No package installs, no downloads: everything else was baked into the AMI by Packer.
 * Every value is validated (names, region, port), so none needs shell quoting beyond the quoted heredoc.
 *
 * ASG_NAME, LIFECYCLE_HOOK, HEALTH_CHECK_PATH, BOOT_TIMEOUT_SECONDS and METRICS_NAMESPACE are for the ready
 * unit, which completes the launch lifecycle hook once the app answers (names from managed/names.ts, as the
 * stack's own). EXPECTED_PARAMETERS lets the boot script tell "no configuration" from "configuration missing";
 * CONFIG_REVISION changes with any config value or secret name, so a config change is a new launch
 * template version and rolls out by instance refresh like an image change.
 */
export function renderUserData(props: UserDataProps): string {
  const { appName, environment, region, appPort } = props;
  const envFile = bootEnvFile(appName);
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    `install -d -m 0755 ${configDir(appName)}`,
    `cat > ${envFile} <<'BOOT_ENV'`,
    `APP_NAME=${appName}`,
    `APP_ENV=${environment}`,
    `AWS_REGION=${region}`,
    `PARAMETER_PATH=${parameterPath(appName, environment)}`,
    `LOG_GROUP_NAME=${logGroupName(appName, environment)}`,
    `APP_PORT=${appPort}`,
    `EXPECTED_PARAMETERS=${expectedParameters(props).join(",")}`,
    `CONFIG_REVISION=${configRevision(props)}`,
    `ASG_NAME=${resourcePrefix(appName, environment)}`,
    `LIFECYCLE_HOOK=${launchHookName(appName, environment)}`,
    `HEALTH_CHECK_PATH=${props.healthCheckPath ?? DEFAULTS.healthCheckPath}`,
    `BOOT_TIMEOUT_SECONDS=${props.bootTimeoutSeconds ?? DEFAULTS.environment.bootTimeoutSeconds}`,
    `METRICS_NAMESPACE=${releaseMetricsNamespace(appName, environment)}`,
    `WARM_POOL=${props.warmPool ?? ""}`,
    "BOOT_ENV",
    `systemctl enable --now ${serviceUnitName(appName)} ${readyUnitName(appName)}`,
    "",
  ].join("\n");
}

/** The environment-variable names the stack creates parameters for, sorted. */
export function expectedParameters(props: Pick<UserDataProps, "config" | "secrets">): string[] {
  return [...Object.keys(props.config), ...props.secrets].sort();
}

/** 16 hex characters that change whenever a config value or the set of secret names changes. */
export function configRevision(props: Pick<UserDataProps, "config" | "secrets">): string {
  const canonical = JSON.stringify({
    config: Object.keys(props.config)
      .sort()
      .map((key) => [key, props.config[key]]),
    secrets: [...props.secrets].sort(),
  });
  return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
