/**
 * Every name that more than one part of the system agrees on: the stacks, the Packer image (through its
 * variables and boot script), the generator and the ops README. Change a name here and nowhere else.
 */

/** The SSM path under which one environment's parameters live, with a trailing slash. */
export function parameterPath(app: string, env: string): string {
  return `/${app}/${env}/`;
}

/** The SSM name of a plain configuration value (the ConfigMap equivalent). */
export function configParameterName(app: string, env: string, key: string): string {
  return `${parameterPath(app, env)}config/${key}`;
}

/** The SSM name of a secret (the Secret equivalent); its value is set out of band. */
export function secretParameterName(app: string, env: string, name: string): string {
  return `${parameterPath(app, env)}secret/${name}`;
}

/** The CloudWatch log group that receives the app's logs of one environment. */
export function logGroupName(app: string, env: string): string {
  return `/${app}/${env}/app`;
}

/** The systemd unit that runs the app on the image. */
export function serviceUnitName(app: string): string {
  return `${app}.service`;
}

/** The file user_data writes at boot; the image's boot script reads it. */
export function bootEnvFile(app: string): string {
  return `/etc/${app}/boot.env`;
}

/** The prefix of every AWS resource name of one environment. */
export function resourcePrefix(app: string, env: string): string {
  return `${app}-${env}`;
}

/** The KMS alias of the key that encrypts an environment's secrets. */
export function kmsAliasName(app: string, env: string): string {
  return `alias/${resourcePrefix(app, env)}-secrets`;
}

/** The log group of the VPC's flow logs (a new VPC only). */
export function flowLogGroupName(app: string, env: string): string {
  return `/${app}/${env}/vpc-flow-logs`;
}

/** The log group of the WAF web ACL; WAF requires the aws-waf-logs- prefix. */
export function wafLogGroupName(app: string, env: string): string {
  return `aws-waf-logs-${resourcePrefix(app, env)}`;
}

/** The CloudWatch alarms that stop (and roll back) an instance refresh. */
export function rolloutAlarmNames(app: string, env: string): { readonly errors: string; readonly unhealthy: string } {
  const prefix = resourcePrefix(app, env);
  return { errors: `${prefix}-rollout-5xx`, unhealthy: `${prefix}-rollout-unhealthy` };
}

/** The default SSM parameter (data type aws:ec2:image) that the Packer build publishes the AMI id to. */
export function defaultAmiParameter(app: string): string {
  return `/${app}/image/ami-id`;
}

/** Tag keys that the stacks set themselves on every resource (provider default_tags). */
export const MANAGED_TAG_KEYS = ["app", "environment", "managed-by"] as const;

/** The value of the `managed-by` tag. */
export const MANAGED_BY = "create-immutable-app";

/**
 * Environment names the image sets itself; a config key or secret with one of these names is refused.
 * packer/files/configure-app.sh refuses the same names at boot (a test keeps the two equal).
 */
export const RESERVED_ENV_NAMES =
  /^(APP_NAME|APP_ENV|AWS_REGION|APP_PORT|APP_DOCKER_ENV_ARGS|PATH|HOME|LD_[A-Z0-9_]*|DOCKER_[A-Z0-9_]*)$/;
