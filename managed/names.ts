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

/**
 * The namespace of every name the image gives the app on the instance: the systemd units, the system
 * user and group, /etc, /var/log and /usr/local/share directories, the docker image and container.
 * An app may be called anything the app-name rule allows, including `docker`, `ssh`, `systemd`,
 * `root`, `daemon` or `scratch`; with every such name behind this prefix none of them can collide
 * with what Ubuntu 24.04 and Amazon Linux 2023 already have (units such as docker.service, /etc/ssh,
 * users such as daemon, ubuntu, ec2-user or ssm-user, docker's reserved image name `scratch`).
 * `immutable-app` is no user, group, unit or path of either base OS: Debian/Ubuntu's static users and
 * groups come from base-passwd (/usr/share/base-passwd/{passwd,group}.master, see its
 * users-and-groups document); AL2023 adds ec2-user, and the SSM agent adds ssm-user.
 */
export const IMAGE_NAMESPACE = "immutable-app";

/**
 * The system user and group that run the app unit's docker client. One image bakes one app, so the
 * user needs no app name; `immutable-app-` plus a 20-character app name would also exceed the 31
 * characters of systemd's strict user-name syntax (systemd.io/USER_NAMES).
 */
export const SERVICE_USER = IMAGE_NAMESPACE;

/**
 * The systemd unit that runs the app on the image: an instance of the template
 * packer/files/immutable-app@.service, so the app name is only ever an instance name (`%i`).
 */
export function serviceUnitName(app: string): string {
  return `${IMAGE_NAMESPACE}@${app}.service`;
}

/**
 * The unit that lets a new instance join: once the app answers locally it completes the launch lifecycle
 * hook (packer/files/immutable-app-ready@.service).
 */
export function readyUnitName(app: string): string {
  return `${IMAGE_NAMESPACE}-ready@${app}.service`;
}

/** The oneshot unit that reads the parameters once per boot (packer/files/immutable-app-config@.service). */
export function configUnitName(app: string): string {
  return `${IMAGE_NAMESPACE}-config@${app}.service`;
}

/** The app's configuration directory on the instance. */
export function configDir(app: string): string {
  return `/etc/${IMAGE_NAMESPACE}/${app}`;
}

/** The file user_data writes at boot; the image's boot script reads it. */
export function bootEnvFile(app: string): string {
  return `${configDir(app)}/boot.env`;
}

/** The environment file the boot script writes from SSM; the app unit reads it. */
export function appEnvFile(app: string): string {
  return `${configDir(app)}/app.env`;
}

/** The CloudWatch agent configuration the boot script writes. */
export function cloudWatchAgentConfigFile(app: string): string {
  return `${configDir(app)}/cloudwatch-agent.json`;
}

/** The file that receives the container's stdout and stderr; the CloudWatch agent ships it. */
export function appLogFile(app: string): string {
  return `/var/log/${IMAGE_NAMESPACE}/${app}.log`;
}

/** What was baked (image reference and id), readable on the instance. */
export function provenanceFile(app: string): string {
  return `/usr/local/share/${IMAGE_NAMESPACE}/${app}.image`;
}

/**
 * The local tag of the app's container image. `localhost/` makes it a name of no public registry:
 * docker reads a first path component that is `localhost` (or has a `.` or `:`) as a registry host,
 * any other name as Docker Hub, where `<app>:baked` would be `docker.io/library/<app>` (an official
 * image for names such as `nginx` or `ubuntu`). See distribution/reference normalize.go
 * (splitDockerDomain), which docs.docker.com names as the canonical definition of image references.
 */
export function bakedImageName(app: string): string {
  return `localhost/${IMAGE_NAMESPACE}/${app}:baked`;
}

/** The name of the app's container (docker container names are per host; ours never clashes). */
export function containerName(app: string): string {
  return `${IMAGE_NAMESPACE}-${app}`;
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
export interface RolloutAlarmNames {
  readonly errorRate: string;
  readonly latency: string;
  readonly unhealthy: string;
  readonly bootFailures: string;
}

export function rolloutAlarmNames(app: string, env: string): RolloutAlarmNames {
  const prefix = resourcePrefix(app, env);
  return {
    errorRate: `${prefix}-rollout-error-rate`,
    latency: `${prefix}-rollout-latency`,
    unhealthy: `${prefix}-rollout-unhealthy`,
    bootFailures: `${prefix}-rollout-boot-failures`,
  };
}

/**
 * The CloudWatch namespace an environment's instances report boot failures to (the launch lifecycle
 * hook's ABANDON). One per environment, so that the instance role's cloudwatch:namespace condition keeps
 * one environment from raising another's rollout alarm.
 */
export function releaseMetricsNamespace(app: string, env: string): string {
  return `${RELEASE_METRICS_PREFIX}${resourcePrefix(app, env)}`;
}

export const RELEASE_METRICS_PREFIX = "immutable-app/";

/** The launch lifecycle hook the boot completes (CONTINUE once the app answers, ABANDON otherwise). */
export function launchHookName(app: string, env: string): string {
  return `${resourcePrefix(app, env)}-app-ready`;
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
export const RESERVED_ENV_NAMES = /^(APP_NAME|APP_ENV|AWS_REGION|APP_PORT|APP_DOCKER_ENV_ARGS|PATH|HOME|LD_[A-Z0-9_]*|DOCKER_[A-Z0-9_]*)$/;

/**
 * The IAM path of everything the bootstrap stack creates for CI (roles, the permissions boundaries).
 * The environments' own roles live at the default path `/`, so `role/<app>-<env>-*`, the pattern a
 * deploy role may manage, never matches a CI role (a role's ARN includes its path).
 */
export const CI_IAM_PATH = "/github-actions/";

/**
 * The role and instance profile of Packer's build instance, created by the bootstrap stack (at
 * CI_IAM_PATH): the bake role may pass this role and no other, and creates none.
 */
export function packerBuildRoleName(app: string): string {
  return `${app}-packer-build`;
}

/** The role that bakes images (pushes to the configured branch only). */
export function bakeRoleName(app: string): string {
  return `${app}-bake`;
}

/**
 * The read-only role of one environment's scheduled drift plan (that GitHub environment's jobs only:
 * a plan decrypts the environment's secrets).
 */
export function driftRoleName(app: string, env: string): string {
  return `${resourcePrefix(app, env)}-drift`;
}

/** The role that deploys one environment (its GitHub environment only). */
export function deployRoleName(app: string, env: string): string {
  return `${resourcePrefix(app, env)}-deploy`;
}

/**
 * The managed policy every role an environment's stack creates must carry as its permissions boundary,
 * at CI_IAM_PATH: the deploy role may create roles only with it.
 */
export function permissionsBoundaryName(app: string, env: string): string {
  return `${resourcePrefix(app, env)}-boundary`;
}

/** The boundary's ARN, from the account id (a Terraform local in the stacks). */
export function permissionsBoundaryArn(partition: string, accountId: string, app: string, env: string): string {
  return `arn:${partition}:iam::${accountId}:policy${CI_IAM_PATH}${permissionsBoundaryName(app, env)}`;
}

/** The issuer of GitHub Actions' OIDC tokens, and the host part of its IAM provider's ARN. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/**
 * How long a CI role's session may last, in seconds: a deploy job waits up to an hour for the instance
 * refresh (managed/rollout.sh, --timeout 3600) after terraform apply, and a bake takes long too. The
 * roles allow it (max_session_duration; IAM allows up to 12 hours) and the workflows ask for it
 * (configure-aws-credentials' role-duration-seconds).
 */
export const CI_SESSION_SECONDS = 7200;
