/**
 * What the CI roles of the bootstrap stack may do, as IAM policy documents: the bake role, one deploy
 * role per environment, the read-only drift role, and the permissions boundary every role an
 * environment's stack creates must carry. Pure functions of the config, the partition and the account
 * (a Terraform variable in the stack), so that the tests can read them.
 *
 * Scoping, in order of preference: by name (`<app>-<env>` prefixes, the `/<app>/<env>/` parameter path),
 * where a resource's ARN carries its name; by the tags every stack resource carries (the provider's
 * default_tags: app=<app>, environment=<env>), where resources have only ids (EC2, KMS keys, target
 * groups, whose name prefix is 6 characters); `*` only where AWS takes no narrower resource, each such
 * statement's Sid ending in `Anywhere` and its reason next to it. Names and tags are matched with
 * StringEquals/ARN patterns; environment names that are each other's prefix plus `-` are refused when
 * the config has a github block (config-validation.ts), so `<app>-<env>-*` never matches another
 * environment's resources.
 *
 * Sources: IAM User Guide, access_policies_boundaries.html (a delegated administrator may create roles
 * only with a boundary: the iam:PermissionsBoundary condition on CreateRole, PutRolePolicy and
 * DeleteRolePolicy); the AWS CLI reference of add-role-to-instance-profile ("The caller of this operation
 * must be granted the PassRole permission on the IAM role"); EC2 User Guide, permission-to-pass-iam-roles.html
 * (iam:PassRole scoped to role ARNs); Packer's Amazon plugin docs (docs/builders/index.mdx, "IAM Task or
 * Instance Role": the minimal EC2 set, and the IAM set "when you're creating a temporary instance
 * profile") and builder/common/step_iam_instance_profile.go (the temporary role and profile are named
 * `packer-<uuid>` and tagged with the build's tags); Terraform's S3 backend docs (s3:ListBucket on the
 * bucket, s3:GetObject and s3:PutObject on the key; with use_lockfile also s3:DeleteObject on `<key>.tflock`).
 * Not found in the docs read here, so unverified until a real deploy: which resource types EC2 checks for
 * each multi-resource call (the create/own split below follows the EC2 User Guide's pattern of
 * aws:RequestTag on the new resource and aws:ResourceTag on the ones it refers to), and whether the Auto
 * Scaling group's launch-template check runs ec2:RunInstances as the caller.
 */
import { AppConfig, EnvironmentConfig } from "../managed/config";
import { s3StateKey } from "../managed/backend";
import {
  GITHUB_OIDC_HOST, kmsAliasName, parameterPath, permissionsBoundaryArn, resourcePrefix, wafLogGroupName,
} from "../managed/names";

export interface Statement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly Statement[];
}

export interface CiPolicyContext {
  readonly config: AppConfig;
  /** aws, aws-cn or aws-us-gov: the region's. */
  readonly partition: string;
  /** The account id (a Terraform reference in the stack). */
  readonly accountId: string;
}

const doc = (statements: Statement[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements });
const allow = (Sid: string, Action: string | string[], Resource: string | string[], Condition?: Statement["Condition"]): Statement =>
  Condition ? { Sid, Effect: "Allow", Action, Resource, Condition } : { Sid, Effect: "Allow", Action, Resource };

/** `arn:<partition>:<service>:<region>:<account>:<rest>`. */
function arn(ctx: CiPolicyContext, service: string, rest: string, options: { region?: boolean; account?: boolean } = {}): string {
  const region = options.region === false ? "" : ctx.config.region;
  const account = options.account === false ? "" : ctx.accountId;
  return `arn:${ctx.partition}:${service}:${region}:${account}:${rest}`;
}

/** `/a/b/` as a parameter ARN: `parameter/a/b`. */
function parameterArn(ctx: CiPolicyContext, name: string): string {
  return arn(ctx, "ssm", `parameter${name.startsWith("/") ? "" : "/"}${name}`);
}

/** Conditions on the stacks' default tags: of the resource acted on, or of the request that creates one. */
function tags(kind: "ResourceTag" | "RequestTag", app: string, env?: string): Statement["Condition"] {
  return { StringEquals: { [`aws:${kind}/app`]: app, ...(env ? { [`aws:${kind}/environment`]: env } : {}) } };
}

/** The EC2 resource types the stacks create (every one tagged at creation through default_tags). */
const EC2_CREATED = ["vpc", "subnet", "internet-gateway", "route-table", "security-group", "security-group-rule", "natgateway",
  "elastic-ip", "launch-template", "vpc-endpoint", "vpc-flow-log"] as const;
const EC2_CREATE_ACTIONS = ["ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateInternetGateway", "ec2:CreateRouteTable",
  "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:CreateNatGateway",
  "ec2:AllocateAddress", "ec2:CreateLaunchTemplate", "ec2:CreateVpcEndpoint", "ec2:CreateFlowLogs"];

/**
 * Reads that a plan (and the rollout) makes. With `env`, one environment's; without, every environment
 * of the app (the drift role).
 */
export function readStatements(ctx: CiPolicyContext, env?: EnvironmentConfig): Statement[] {
  const { config } = ctx;
  const app = config.appName;
  const names = env ? resourcePrefix(app, env.name) : `${app}-*`;
  const path = env ? parameterPath(app, env.name) : `/${app}/`;
  const statements: Statement[] = [
    // List and Describe calls that take no resource narrower than * (IAM Service Authorization
    // Reference, the actions' Resource types column is empty): the provider's refresh of every EC2,
    // ELB and Auto Scaling resource, the rollout's describe-* calls, the secrets check's
    // DescribeParameters (managed/rollout.sh), the alarms' DescribeAlarms.
    allow("ReadAnywhere", [
      "ec2:Describe*", "elasticloadbalancing:Describe*", "autoscaling:Describe*", "cloudwatch:DescribeAlarms",
      "logs:DescribeLogGroups", "ssm:DescribeParameters", "kms:ListAliases", "wafv2:ListWebACLs",
    ], "*"),
    allow("ReadOwnRoles", ["iam:Get*", "iam:List*"], [arn(ctx, "iam", `role/${names}-*`, { region: false }),
      arn(ctx, "iam", `instance-profile/${names}-*`, { region: false })]),
    allow("ReadOwnParameters", ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:ListTagsForResource"],
      [parameterArn(ctx, path.replace(/\/$/, "")), parameterArn(ctx, `${path}*`)]),
    // The provider reads SecureString parameters with decryption even for write-only values
    // (stacks/parameters.ts, hashicorp/terraform-provider-aws#42849): kms:Decrypt, through SSM only.
    allow("ReadOwnKeys", ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:Decrypt"],
      arn(ctx, "kms", "key/*"), tags("ResourceTag", app, env?.name)),
    allow("ReadOwnBuckets", ["s3:GetBucket*", "s3:GetLifecycleConfiguration", "s3:GetEncryptionConfiguration", "s3:GetAccelerateConfiguration",
      "s3:GetReplicationConfiguration", "s3:ListBucket"], arn(ctx, "s3", `${names}-*`, { region: false, account: false })),
    allow("ReadOwnLogsAlarmsAcls", ["logs:ListTagsForResource", "logs:ListTagsLogGroup", "cloudwatch:ListTagsForResource", "wafv2:Get*", "wafv2:ListTagsForResource"], [
      arn(ctx, "logs", `log-group:${path}*`), arn(ctx, "logs", `log-group:aws-waf-logs-${names}`),
      arn(ctx, "cloudwatch", `alarm:${names}-*`), arn(ctx, "wafv2", `regional/webacl/${names}/*`),
      arn(ctx, "elasticloadbalancing", `loadbalancer/app/${names}/*`),
    ]),
  ];
  if (config.backend) {
    const backend = config.backend;
    const bucket = arn(ctx, "s3", backend.bucket, { region: false, account: false });
    const envs = env ? [env] : config.environments;
    statements.push(allow("ReadState", "s3:ListBucket", bucket));
    statements.push(allow("ReadStateObjects", "s3:GetObject", envs.map((e) => `${bucket}/${s3StateKey(backend, e.name)}`)));
  }
  return statements;
}

/** The image parameters one environment reads (resolve:ssm) and writes (promotion), from the CI template's logic. */
function imageParameters(config: AppConfig, env: EnvironmentConfig): { read: string[]; write: string[] } {
  if (env.amiSource.mode !== "ssm") return { read: [], write: [] };
  const index = config.environments.indexOf(env);
  const previous = index > 0 ? config.environments[index - 1].amiSource : undefined;
  const own = env.amiSource.parameter;
  const promoted = own !== config.image.amiParameter;
  return {
    read: [own, ...(previous?.mode === "ssm" ? [previous.parameter] : [])],
    write: promoted ? [own] : [],
  };
}

/**
 * One environment's deploy role: terraform apply of the environment's stack and the rollout
 * (managed/deploy.ts, managed/rollout.sh). Split into documents by service, each under IAM's size limit
 * for one managed policy (6,144 characters; IAM User Guide, reference_iam-quotas.html).
 */
export function deployPolicies(ctx: CiPolicyContext, env: EnvironmentConfig): Record<string, PolicyDocument> {
  const { config, partition } = ctx;
  const app = config.appName;
  const prefix = resourcePrefix(app, env.name);
  const own = tags("ResourceTag", app, env.name);
  const created = tags("RequestTag", app, env.name);
  const ec2 = (type: string) => arn(ctx, "ec2", `${type}/*`);
  const network = config.network;

  const networkStatements: Statement[] = [
    // New resources of the environment: only with its tags in the request.
    allow("Ec2CreateTagged", [...EC2_CREATE_ACTIONS, "ec2:RunInstances"], [...EC2_CREATED, "instance", "volume"].map(ec2), created),
    // Tag-on-create needs ec2:CreateTags, limited to those create calls by the ec2:CreateAction
    // condition key (EC2 User Guide, supported-iam-actions-tagging.html; not re-read here: the ELB and
    // ECS guides read for this document the same pattern with their own CreateAction keys).
    allow("Ec2TagOnCreate", "ec2:CreateTags", [...EC2_CREATED, "instance", "volume"].map(ec2),
      { StringEquals: { "ec2:CreateAction": [...EC2_CREATE_ACTIONS, "ec2:RunInstances"].map((a) => a.replace(/^ec2:/, "")) } }),
    // Everything else on the environment's own resources, found by their tags: the resources a create
    // call refers to (the VPC of a subnet, the subnet of a NAT gateway, the route table of a route),
    // changes and deletion.
    allow("Ec2ChangeOwn", [
      ...EC2_CREATE_ACTIONS, "ec2:RunInstances", "ec2:CreateTags", "ec2:DeleteTags", "ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute",
      "ec2:Delete*", "ec2:Modify*", "ec2:Associate*", "ec2:Disassociate*", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
      "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:UpdateSecurityGroupRuleDescriptions*",
      "ec2:CreateLaunchTemplateVersion", "ec2:ReleaseAddress", "ec2:DisassociateAddress",
    ], "*", own),
    // AWS creates every VPC's default security group, untagged; aws_default_security_group tags it and
    // removes its rules. No condition key names a group "default", so an untagged group may be claimed.
    allow("Ec2ClaimUntaggedDefaultGroup", ["ec2:CreateTags", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"],
      ec2("security-group"), { Null: { "aws:ResourceTag/app": "true" } }),
    // An instance launch (the group's template check, see the header) names an ENI, which the
    // template does not tag, and the app's image, which the bake tags app=<app> only.
    allow("Ec2LaunchInterfaces", "ec2:RunInstances", ec2("network-interface")),
    allow("Ec2LaunchOwnImages", "ec2:RunInstances", arn(ctx, "ec2", "image/*", { account: false }), tags("ResourceTag", app)),
  ];
  if (network.mode === "existing") {
    // The team's own VPC and subnets carry none of the environment's tags: by id.
    networkStatements.push(allow("Ec2UseExistingNetwork", ["ec2:CreateSecurityGroup", "ec2:RunInstances"], [
      arn(ctx, "ec2", `vpc/${network.vpcId}`),
      ...[...network.publicSubnetIds, ...network.privateSubnetIds].map((id) => arn(ctx, "ec2", `subnet/${id}`)),
    ]));
  }

  const lb = arn(ctx, "elasticloadbalancing", `loadbalancer/app/${prefix}/*`);
  const targetGroups = arn(ctx, "elasticloadbalancing", "targetgroup/*/*");
  const platform: Statement[] = [
    // The load balancer and its listeners carry its name in their ARNs.
    allow("ElbOwnLoadBalancer", "elasticloadbalancing:*", [lb, arn(ctx, "elasticloadbalancing", `listener/app/${prefix}/*`),
      arn(ctx, "elasticloadbalancing", `listener-rule/app/${prefix}/*`)]),
    // Target groups: a name prefix of 6 characters (stacks/load-balancer.ts), so by tags. Creating with
    // tags also needs elasticloadbalancing:AddTags (ELB User Guide, tagging-resources-during-creation.html).
    allow("ElbCreateTaggedTargetGroups", ["elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:AddTags"], targetGroups, created),
    allow("ElbChangeOwnTargetGroups", "elasticloadbalancing:*", targetGroups, own),
    allow("AutoScalingOwnGroup", "autoscaling:*", arn(ctx, "autoscaling", `autoScalingGroup:*:autoScalingGroupName/${prefix}`)),
    allow("CloudWatchOwnAlarms", ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"],
      arn(ctx, "cloudwatch", `alarm:${prefix}-*`)),
    allow("LogsOwnGroups", "logs:*", [
      arn(ctx, "logs", `log-group:${parameterPath(app, env.name)}*`),
      ...(env.waf ? [arn(ctx, "logs", `log-group:${wafLogGroupName(app, env.name)}`), arn(ctx, "logs", `log-group:${wafLogGroupName(app, env.name)}:*`)] : []),
    ]),
    // Auto Scaling and ELB create their service-linked roles on an account's first group or load balancer.
    allow("ServiceLinkedRoles", "iam:CreateServiceLinkedRole", arn(ctx, "iam", "role/aws-service-role/*", { region: false }),
      { StringEquals: { "iam:AWSServiceName": ["autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com"] } }),
  ];
  if (env.waf) {
    platform.push(
      allow("WafOwnAcl", "wafv2:*", [arn(ctx, "wafv2", `regional/webacl/${prefix}/*`), arn(ctx, "wafv2", "regional/managedruleset/*/*"), lb]),
      // WAF's logs are "vended" logs: setting up their delivery needs logs:CreateLogDelivery (on all
      // resources), and logs:PutResourcePolicy and DescribeResourcePolicies with a wildcard log-group
      // ARN, "instead of specifying only a single log group name" (CloudWatch Logs User Guide,
      // AWS-logs-infrastructure-CWL.html, "User permissions").
      allow("WafLogDeliveryAnywhere", ["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:GetLogDelivery", "logs:ListLogDeliveries"], "*"),
      allow("WafLogResourcePolicy", ["logs:PutResourcePolicy", "logs:DescribeResourcePolicies"], arn(ctx, "logs", "log-group:*")),
    );
  }

  const role = arn(ctx, "iam", `role/${prefix}-*`, { region: false });
  const boundary = permissionsBoundaryArn(partition, ctx.accountId, app, env.name);
  const images = imageParameters(config, env);
  const data: Statement[] = [
    // Roles of the environment only with its boundary, so that none can do more than the boundary allows.
    allow("IamCreateBoundedRoles", ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"], role,
      { StringEquals: { "iam:PermissionsBoundary": boundary } }),
    allow("IamChangeOwnRoles", ["iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
      "iam:UpdateAssumeRolePolicy"], role),
    allow("IamOwnInstanceProfiles", ["iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile"],
    arn(ctx, "iam", `instance-profile/${prefix}-*`, { region: false })),
    // The instance role to EC2 (instance profile, launch template), the flow-log role to VPC Flow Logs.
    allow("IamPassOwnRoles", "iam:PassRole", role,
      { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"] } }),
    // CreateKey takes no resource (the key does not exist yet): only with the environment's tags.
    allow("KmsCreateTaggedKeyAnywhere", ["kms:CreateKey", "kms:TagResource"], "*", created),
    allow("KmsOwnKeys", ["kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:ScheduleKeyDeletion",
      "kms:CancelKeyDeletion", "kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource", "kms:Encrypt", "kms:GenerateDataKey",
      "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"], arn(ctx, "kms", "key/*"), own),
    allow("KmsOwnAlias", ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"], arn(ctx, "kms", kmsAliasName(app, env.name))),
    allow("SsmOwnParameters", ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters", "ssm:AddTagsToResource",
      "ssm:RemoveTagsFromResource"], parameterArn(ctx, `${parameterPath(app, env.name)}*`)),
    // The access-log bucket is `<app>-<env>-<suffix>` (bucket_prefix).
    allow("S3OwnBuckets", "s3:*", [arn(ctx, "s3", `${prefix}-*`, { region: false, account: false }),
      arn(ctx, "s3", `${prefix}-*/*`, { region: false, account: false })]),
  ];
  if (images.read.length > 0) {
    // The launch template resolves the image parameter; the rollout reads it (managed/rollout.sh).
    data.push(allow("SsmReadImageParameters", ["ssm:GetParameter", "ssm:GetParameters"], images.read.map((p) => parameterArn(ctx, p))));
  }
  if (images.write.length > 0) {
    // CI promotes the image into this environment's parameter (templates/ci.yml.hbs).
    data.push(allow("SsmPromoteImage", "ssm:PutParameter", images.write.map((p) => parameterArn(ctx, p))));
  }
  if (config.backend) {
    const key = s3StateKey(config.backend, env.name);
    const bucket = arn(ctx, "s3", config.backend.bucket, { region: false, account: false });
    data.push(allow("WriteOwnState", "s3:PutObject", `${bucket}/${key}`));
    data.push(allow("LockOwnState", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], `${bucket}/${key}.tflock`));
  }
  return {
    read: doc(readStatements(ctx, env)),
    network: doc(networkStatements),
    platform: doc(platform),
    data: doc(data),
  };
}

/** The drift role: the reads of every environment's plan, nothing that changes anything. */
export function driftPolicy(ctx: CiPolicyContext): PolicyDocument {
  return doc(readStatements(ctx));
}

/** Every SSM parameter an image may be resolved from or published to. */
function allImageParameters(config: AppConfig): string[] {
  const names = config.environments.flatMap((e) => (e.amiSource.mode === "ssm" ? [e.amiSource.parameter] : []));
  if (config.image.amiParameter) names.push(config.image.amiParameter);
  return [...new Set(names)].sort();
}

/**
 * The bake role: Packer's amazon-ebs build with a temporary instance profile and Session Manager
 * (packer/app.pkr.hcl), the AMI id published to image.amiParameter, the app image pushed to ECR
 * (with --dockerfile), and `npm run images:prune` (managed/prune-images.sh).
 */
export function bakePolicy(ctx: CiPolicyContext): PolicyDocument {
  const { config } = ctx;
  const app = config.appName;
  const packerRole = arn(ctx, "iam", "role/packer-*", { region: false });
  const images = allImageParameters(config);
  const statements: Statement[] = [
    // Packer's documented minimal set for the Amazon plugin, Resource "*" as Packer documents it: the
    // build instance, its temporary key pair and security group, the volumes, snapshots and the AMI.
    // The prune's Describe calls (images, instances, launch templates and versions) are among them or
    // in ec2:Describe*.
    allow("PackerBuildAnywhere", [
      "ec2:AttachVolume", "ec2:AuthorizeSecurityGroupIngress", "ec2:CopyImage", "ec2:CreateImage", "ec2:CreateKeyPair",
      "ec2:CreateSecurityGroup", "ec2:CreateSnapshot", "ec2:CreateTags", "ec2:CreateVolume", "ec2:DeleteKeyPair",
      "ec2:DeleteSecurityGroup", "ec2:DeleteSnapshot", "ec2:DeleteVolume", "ec2:DeregisterImage", "ec2:Describe*",
      "ec2:DetachVolume", "ec2:GetPasswordData", "ec2:ModifyImageAttribute", "ec2:ModifyInstanceAttribute",
      "ec2:ModifySnapshotAttribute", "ec2:RegisterImage", "ec2:RunInstances", "ec2:StopInstances", "ec2:TerminateInstances",
      "autoscaling:Describe*",
    ], "*"),
    // The temporary instance profile (temporary_iam_instance_profile_policy_document): Packer's list,
    // on the `packer-<uuid>` role and profile it creates, tagged with the build's tags.
    allow("PackerTemporaryProfile", ["iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
      "iam:TagRole", "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile", "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile"], [packerRole, arn(ctx, "iam", "instance-profile/packer-*", { region: false })]),
    allow("PackerPassTemporaryRole", "iam:PassRole", packerRole, { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } }),
    // ssh_interface = "session_manager": a port-forwarding session to the build instance (tagged with
    // the run tags, app=<app> among them), ended by Packer.
    allow("PackerSession", "ssm:StartSession", arn(ctx, "ec2", "instance/*"), tags("ResourceTag", app)),
    allow("PackerSessionDocument", "ssm:StartSession", arn(ctx, "ssm", "document/AWS-StartPortForwardingSession", { account: false })),
    allow("PackerEndSession", ["ssm:TerminateSession", "ssm:ResumeSession"], arn(ctx, "ssm", "session/*")),
    // With --dockerfile the bake pushes the app image to ECR. GetAuthorizationToken takes no resource.
    allow("EcrLoginAnywhere", "ecr:GetAuthorizationToken", "*"),
    allow("EcrPushAppImage", ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
      "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [arn(ctx, "ecr", `repository/${app}`), arn(ctx, "ecr", `repository/${app}/*`)]),
  ];
  if (images.length > 0) {
    // The prune keeps what a resolve:ssm parameter names; the bake publishes to image.amiParameter.
    statements.push(allow("ReadImageParameters", ["ssm:GetParameter", "ssm:GetParameters"], images.map((p) => parameterArn(ctx, p))));
  }
  if (config.image.amiParameter) {
    statements.push(allow("PublishImage", "ssm:PutParameter", parameterArn(ctx, config.image.amiParameter)));
  }
  return doc(statements);
}

/**
 * The permissions boundary of an environment's roles: the union of what the instance role
 * (stacks/instance-role.ts) and the flow-log role (stacks/network.ts) are given, and nothing more.
 */
export function boundaryPolicy(ctx: CiPolicyContext, env: EnvironmentConfig): PolicyDocument {
  const app = ctx.config.appName;
  const path = parameterPath(app, env.name);
  const parameters = [parameterArn(ctx, path.replace(/\/$/, "")), parameterArn(ctx, `${path}*`)];
  const logGroups = [arn(ctx, "logs", `log-group:${path}*`)];
  return doc([
    // Session Manager's agent calls (ssm:UpdateInstanceInformation, ssmmessages:*) and the flow-log
    // role's DescribeLogGroups take no narrower resource, as in the roles themselves.
    allow("SessionManagerAnywhere", ["ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel", "logs:DescribeLogGroups"], "*"),
    allow("OwnParameters", ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"], parameters),
    allow("DecryptOwnSecrets", "kms:Decrypt", arn(ctx, "kms", "key/*"),
      { StringLike: { "kms:EncryptionContext:PARAMETER_ARN": parameterArn(ctx, `${path}*`) } }),
    allow("OwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], [...logGroups, ...logGroups.map((g) => `${g}:*`)]),
  ]);
}

/**
 * The `sub` claim GitHub puts in a job's OIDC token (GitHub Docs, "OpenID Connect reference", subject
 * claims; "About security hardening with OpenID Connect", filtering for an environment and for a
 * branch): `repo:<owner>/<repo>:environment:<name>` for a job that references an environment,
 * `repo:<owner>/<repo>:ref:refs/heads/<branch>` for one that does not, on a push to that branch (and a
 * schedule, which runs on the default branch).
 */
export function githubSubject(repository: string, of: { readonly environment: string } | { readonly branch: string }): string {
  return "environment" in of ? `repo:${repository}:environment:${of.environment}` : `repo:${repository}:ref:refs/heads/${of.branch}`;
}

/**
 * A role GitHub Actions may assume through the account's OIDC provider, for exactly one subject and
 * the audience the official aws-actions/configure-aws-credentials asks for (sts.amazonaws.com):
 * StringEquals on both, never a wildcard. GitHub Docs, "Configuring OpenID Connect in Amazon Web
 * Services": audience sts.amazonaws.com "if you are using the official action"; "IAM recommends that
 * users evaluate the IAM condition key, token.actions.githubusercontent.com:sub, in the trust policy of
 * any role that trusts GitHub's OIDC identity provider"; a branch subject "only works if the branch
 * does not refer to an environment", so the bake and drift jobs have none.
 */
export function githubTrustPolicy(providerArn: string, subject: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [{
      Sid: "GitHubActionsOidc",
      Effect: "Allow",
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: subject,
        },
      },
    }],
  };
}

/** The audience configure-aws-credentials requests, and the provider's only client id. */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";
