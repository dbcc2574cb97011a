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
 * Instance Role": the minimal EC2 set) and builder/common/step_iam_instance_profile.go (a given
 * iam_instance_profile is read with iam:GetInstanceProfile; the temporary role and profile, which CI no
 * longer uses, would need iam:CreateRole and iam:PutRolePolicy); Terraform's S3 backend docs (s3:ListBucket on the
 * bucket, s3:GetObject and s3:PutObject on the key; with use_lockfile also s3:DeleteObject on `<key>.tflock`).
 * Not found in the docs read here, so unverified until a real deploy: which resource types EC2 checks for
 * each multi-resource call (the create/own split below follows the EC2 User Guide's pattern of
 * aws:RequestTag on the new resource and aws:ResourceTag on the ones it refers to), and whether the Auto
 * Scaling group's launch-template check runs ec2:RunInstances as the caller.
 */
import type { AppConfig, EnvironmentConfig } from "./config";
import { allPermissions, type DerivedPermissions, type Grant } from "./deploy-permissions";
import { s3StateKey } from "./backend";
import {
  CI_IAM_PATH,
  GITHUB_OIDC_HOST,
  kmsAliasName,
  packerBuildRoleName,
  parameterPath,
  permissionsBoundaryArn,
  releaseMetricsNamespace,
  resourcePrefix,
  wafLogGroupName,
} from "./names";

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
const statement =
  (Effect: "Allow" | "Deny") =>
  (Sid: string, Action: string | string[], Resource: string | string[], Condition?: Statement["Condition"]): Statement =>
    Condition ? { Sid, Effect, Action, Resource, Condition } : { Sid, Effect, Action, Resource };
const allow = statement("Allow");
const deny = statement("Deny");

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

/** A condition that the resource (or the request) carries no environment tag: Packer's, not an environment's. */
const BUILD_ONLY = (kind: "ResourceTag" | "RequestTag"): NonNullable<Statement["Condition"]> => ({
  Null: { [`aws:${kind}/environment`]: "true" },
});

/** EC2 resource types that the same calls create, together: [calls, types] (fewer statements, same rights). */
function groupByActions(creates: Readonly<Record<string, readonly string[]>>): Array<[string[], string[]]> {
  const byActions = new Map<string, [string[], string[]]>();
  for (const [type, actions] of Object.entries(creates)) {
    const key = actions.join();
    const entry = byActions.get(key) ?? [[...actions], []];
    entry[1].push(type);
    byActions.set(key, entry);
  }
  return [...byActions.values()];
}

/** Conditions on the stacks' default tags: of the resource acted on, or of the request that creates one. */
function tags(kind: "ResourceTag" | "RequestTag", app: string, env?: string): Statement["Condition"] {
  return { StringEquals: { [`aws:${kind}/app`]: app, ...(env ? { [`aws:${kind}/environment`]: env } : {}) } };
}

/**
 * Which grant of managed/deploy-permissions.ts each statement of deployPolicies serves: a statement
 * is in a deploy role only when a resource type of its environment's stack needs that grant. The
 * statements not listed (the environment's state, its image parameters, the Deny statements) are in
 * every deploy role.
 *
 * EC2's create statements come from the table's ec2Creates: each EC2 resource type with the calls that
 * create it. A create call is also authorized against the resources it refers to (CreateSubnet
 * against its VPC, AuthorizeSecurityGroupIngress against its group, CreateNatGateway against its
 * subnet and address: the Resource types column of the IAM Service Authorization Reference for EC2,
 * list_amazonec2.html), and aws:RequestTag is in the context of those too. So each type is allowed
 * only for the calls that create it: were CreateSubnet allowed on vpc/* with the request's tags, this
 * role could add subnets to any VPC, and AuthorizeSecurityGroupIngress on security-group/* would open
 * any group of the account. The referred-to resources are matched by Ec2ChangeOwn, by their tags.
 */
const STATEMENT_GRANTS: Readonly<Record<string, Grant>> = {
  Ec2TagOnCreate: "ec2Network",
  Ec2ChangeOwn: "ec2Network",
  Ec2UseExistingNetwork: "ec2Network",
  Ec2LaunchInterfaces: "ec2Launch",
  Ec2LaunchOwnImages: "ec2Launch",
  ElbOwnLoadBalancer: "elb",
  ElbCreateTaggedTargetGroups: "elbTargetGroups",
  ElbTagOnCreate: "elbTargetGroups",
  ElbChangeOwnTargetGroups: "elbTargetGroups",
  AutoScalingOwnGroup: "autoscaling",
  CloudWatchOwnAlarms: "alarms",
  LogsOwnGroups: "logs",
  WafOwnAcl: "waf",
  WafLogDeliveryAnywhere: "wafLogs",
  WafLogResourcePolicyAnywhere: "wafLogs",
  IamCreateBoundedRoles: "iamRoles",
  IamChangeOwnRoles: "iamRoles",
  IamPassOwnRoles: "iamRoles",
  IamOwnInstanceProfiles: "iamProfiles",
  KmsCreateTaggedKeyAnywhere: "kms",
  KmsOwnKeys: "kms",
  KmsOwnAlias: "kmsAlias",
  SsmOwnParameters: "ssmParameters",
  SsmOwnSessionDocument: "ssmDocument",
  S3OwnBuckets: "s3",
  S3EmptyOwnBuckets: "s3",
  SqsOwnQueues: "sqs",
  ReadOwnQueues: "sqs",
};

/** Whether a statement belongs in a role of these permissions (STATEMENT_GRANTS). */
function granted(permissions: DerivedPermissions): (s: Statement) => boolean {
  return (s) => {
    // Auto Scaling and ELB each create their service-linked role on an account's first use.
    if (s.Sid === "ServiceLinkedRoles") return ["autoscaling", "elb", "elbTargetGroups"].some((g) => permissions.grants.has(g as Grant));
    const grant = STATEMENT_GRANTS[s.Sid];
    return grant === undefined || permissions.grants.has(grant);
  };
}

/**
 * Reads that one environment's plan (and its rollout) makes: of its deploy role and its drift role,
 * for the resource types of its stack (managed/deploy-permissions.ts; every type of the table by default).
 */
export function readStatements(
  ctx: CiPolicyContext,
  env: EnvironmentConfig,
  permissions: DerivedPermissions = allPermissions(),
): Statement[] {
  const { config } = ctx;
  const app = config.appName;
  const names = resourcePrefix(app, env.name);
  const path = parameterPath(app, env.name);
  const statements: Statement[] = [
    // List and Describe calls that take no resource narrower than * (IAM Service Authorization
    // Reference, the actions' Resource types column is empty): the provider's refresh of every EC2,
    // ELB and Auto Scaling resource, the rollout's describe-* calls, the secrets check's
    // DescribeParameters (managed/rollout.sh), the alarms' DescribeAlarms.
    allow(
      "ReadAnywhere",
      [
        "ec2:Describe*",
        "elasticloadbalancing:Describe*",
        "autoscaling:Describe*",
        "cloudwatch:DescribeAlarms",
        "logs:DescribeLogGroups",
        "ssm:DescribeParameters",
        "kms:ListAliases",
        "wafv2:ListWebACLs",
      ],
      "*",
    ),
    allow(
      "ReadOwnRoles",
      ["iam:Get*", "iam:List*"],
      [arn(ctx, "iam", `role/${names}-*`, { region: false }), arn(ctx, "iam", `instance-profile/${names}-*`, { region: false })],
    ),
    allow(
      "ReadOwnSessionDocument",
      ["ssm:DescribeDocument", "ssm:GetDocument", "ssm:DescribeDocumentPermission", "ssm:ListTagsForResource"],
      arn(ctx, "ssm", `document/${names}-session`),
    ),
    allow(
      "ReadOwnParameters",
      ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:ListTagsForResource"],
      [parameterArn(ctx, path.replace(/\/$/, "")), parameterArn(ctx, `${path}*`)],
    ),
    allow(
      "ReadOwnKeys",
      ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
      arn(ctx, "kms", "key/*"),
      tags("ResourceTag", app, env.name),
    ),
    // The provider reads SecureString parameters with decryption even for write-only values
    // (stacks/parameters.ts, hashicorp/terraform-provider-aws#42849), so a plan needs kms:Decrypt: only
    // when SSM asks for it (kms:ViaService) and only for the environments' own parameters (the
    // encryption context SSM sends, PARAMETER_ARN, as in the boundary), never for a ciphertext handed
    // to KMS directly. KMS Developer Guide, condition keys kms:ViaService and
    // kms:EncryptionContext:context-key (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html);
    // Systems Manager User Guide, "Any principal that retrieves the decrypted value must have
    // kms:Decrypt permission on that key, whichever Parameter Store operation they call"
    // (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html).
    // Each role reads only its own environment's: the drift roles are per environment too (driftPolicy).
    allow("DecryptOwnParametersThroughSsm", "kms:Decrypt", arn(ctx, "kms", "key/*"), {
      StringEquals: { ...tags("ResourceTag", app, env.name)!.StringEquals, "kms:ViaService": `ssm.${config.region}.amazonaws.com` },
      StringLike: { "kms:EncryptionContext:PARAMETER_ARN": parameterArn(ctx, `${path}*`) },
    }),
    allow(
      "ReadOwnBuckets",
      [
        "s3:GetBucket*",
        "s3:GetLifecycleConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:GetAccelerateConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
      ],
      arn(ctx, "s3", `${names}-*`, { region: false, account: false }),
    ),
    allow(
      "ReadOwnLogsAlarmsAcls",
      ["logs:ListTagsForResource", "logs:ListTagsLogGroup", "cloudwatch:ListTagsForResource", "wafv2:Get*", "wafv2:ListTagsForResource"],
      [
        arn(ctx, "logs", `log-group:${path}*`),
        arn(ctx, "logs", `log-group:aws-waf-logs-${names}`),
        arn(ctx, "cloudwatch", `alarm:${names}-*`),
        arn(ctx, "wafv2", `regional/webacl/${names}/*`),
        arn(ctx, "elasticloadbalancing", `loadbalancer/app/${names}/*`),
      ],
    ),
  ];
  // A queue a team adds beside the stack (named <app>-<env>-*): what the provider reads of it.
  statements.push(
    allow("ReadOwnQueues", ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"], arn(ctx, "sqs", `${names}-*`)),
  );
  if (config.backend) {
    const backend = config.backend;
    const bucket = arn(ctx, "s3", backend.bucket, { region: false, account: false });
    statements.push(allow("ReadState", "s3:ListBucket", bucket));
    statements.push(allow("ReadStateObjects", "s3:GetObject", `${bucket}/${s3StateKey(backend, env.name)}`));
  }
  return statements.filter(granted(permissions));
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
export function deployPolicies(
  ctx: CiPolicyContext,
  env: EnvironmentConfig,
  permissions: DerivedPermissions = allPermissions(),
): Record<string, PolicyDocument> {
  const { config, partition } = ctx;
  const app = config.appName;
  const prefix = resourcePrefix(app, env.name);
  const own = tags("ResourceTag", app, env.name);
  const created = tags("RequestTag", app, env.name);
  const ec2 = (type: string) => arn(ctx, "ec2", `${type}/*`);
  const network = config.network;
  const EC2_CREATES = permissions.ec2Creates;
  const EC2_CREATED = Object.keys(EC2_CREATES);
  const EC2_CREATE_ACTIONS = [...new Set(Object.values(EC2_CREATES).flat())].sort();

  const networkStatements: Statement[] = [
    // New resources of the environment: only with its tags in the request.
    ...groupByActions(EC2_CREATES).map(([actions, types], i) => allow(`Ec2CreateTagged${i + 1}`, actions, types.map(ec2), created)),
    // Tag-on-create needs ec2:CreateTags, limited to those create calls by the ec2:CreateAction
    // condition key (EC2 User Guide, supported-iam-actions-tagging.html; not re-read here: the ELB and
    // ECS guides read for this document the same pattern with their own CreateAction keys).
    ...(EC2_CREATED.length > 0
      ? [
          allow("Ec2TagOnCreate", "ec2:CreateTags", EC2_CREATED.map(ec2), {
            StringEquals: { "ec2:CreateAction": EC2_CREATE_ACTIONS.map((a) => a.replace(/^ec2:/, "")) },
          }),
        ]
      : []),
    // Everything else on the environment's own resources, found by their tags: the resources a create
    // call refers to (the VPC of a subnet, the subnet of a NAT gateway, the route table of a route),
    // changes and deletion.
    allow(
      "Ec2ChangeOwn",
      [
        ...EC2_CREATE_ACTIONS,
        "ec2:CreateTags",
        "ec2:DeleteTags",
        "ec2:CreateRoute",
        "ec2:ReplaceRoute",
        "ec2:DeleteRoute",
        "ec2:Delete*",
        "ec2:Modify*",
        "ec2:Associate*",
        "ec2:Disassociate*",
        "ec2:AttachInternetGateway",
        "ec2:DetachInternetGateway",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:UpdateSecurityGroupRuleDescriptions*",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:ReleaseAddress",
        "ec2:DisassociateAddress",
      ],
      "*",
      own,
    ),
    // Nothing on untagged security groups: the VPC's default group is not managed (stacks/network.ts),
    // and no condition key could tell it from another app's untagged group.
    // An instance launch (the group's template check, see the header) names an ENI, which the
    // template does not tag, and the app's image, which the bake tags app=<app> only.
    allow("Ec2LaunchInterfaces", "ec2:RunInstances", ec2("network-interface")),
    allow("Ec2LaunchOwnImages", "ec2:RunInstances", arn(ctx, "ec2", "image/*", { account: false }), tags("ResourceTag", app)),
  ];
  if (network.mode === "existing") {
    // The team's own VPC and subnets carry none of the environment's tags: by id.
    networkStatements.push(
      allow(
        "Ec2UseExistingNetwork",
        ["ec2:CreateSecurityGroup", "ec2:RunInstances"],
        [
          arn(ctx, "ec2", `vpc/${network.vpcId}`),
          ...[...network.publicSubnetIds, ...network.privateSubnetIds].map((id) => arn(ctx, "ec2", `subnet/${id}`)),
        ],
      ),
    );
  }

  const lb = arn(ctx, "elasticloadbalancing", `loadbalancer/app/${prefix}/*`);
  const targetGroups = arn(ctx, "elasticloadbalancing", "targetgroup/*/*");
  const platform: Statement[] = [
    // The load balancer and its listeners carry its name in their ARNs.
    allow("ElbOwnLoadBalancer", "elasticloadbalancing:*", [
      lb,
      arn(ctx, "elasticloadbalancing", `listener/app/${prefix}/*`),
      arn(ctx, "elasticloadbalancing", `listener-rule/app/${prefix}/*`),
    ]),
    // Target groups: a name prefix of 6 characters (stacks/load-balancer.ts), so by tags. Creating with
    // tags also needs elasticloadbalancing:AddTags, which the elasticloadbalancing:CreateAction condition
    // key limits to the create call: "Users are not permitted to tag any existing resources" (ELB User
    // Guide, https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html).
    // An AddTags held only to aws:RequestTag would let this role put environment=<env> on another
    // environment's target group and then change it as its own.
    allow("ElbCreateTaggedTargetGroups", "elasticloadbalancing:CreateTargetGroup", targetGroups, created),
    allow("ElbTagOnCreate", "elasticloadbalancing:AddTags", targetGroups, {
      StringEquals: { ...created!.StringEquals, "elasticloadbalancing:CreateAction": "CreateTargetGroup" },
    }),
    allow("ElbChangeOwnTargetGroups", "elasticloadbalancing:*", targetGroups, own),
    // The app and environment tags of an existing load balancer or target group never change: no
    // AddTags or RemoveTags naming them outside a create call, on its own resources included, so that
    // none is handed to another environment either (aws:TagKeys, Service Authorization Reference,
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html).
    deny(
      "ElbDenyRetaggingOwnership",
      ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
      arn(ctx, "elasticloadbalancing", "*"),
      {
        "ForAnyValue:StringEquals": { "aws:TagKeys": ["app", "environment"] },
        Null: { "elasticloadbalancing:CreateAction": "true" },
      },
    ),
    allow("AutoScalingOwnGroup", "autoscaling:*", arn(ctx, "autoscaling", `autoScalingGroup:*:autoScalingGroupName/${prefix}`)),
    allow(
      "CloudWatchOwnAlarms",
      ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"],
      arn(ctx, "cloudwatch", `alarm:${prefix}-*`),
    ),
    allow("LogsOwnGroups", "logs:*", [
      arn(ctx, "logs", `log-group:${parameterPath(app, env.name)}*`),
      ...(env.waf
        ? [
            arn(ctx, "logs", `log-group:${wafLogGroupName(app, env.name)}`),
            arn(ctx, "logs", `log-group:${wafLogGroupName(app, env.name)}:*`),
          ]
        : []),
    ]),
    // A queue a team adds beside the stack, named <app>-<env>-* (the queue's name is its ARN's last part).
    allow(
      "SqsOwnQueues",
      [
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:SetQueueAttributes",
        "sqs:ListQueueTags",
        "sqs:TagQueue",
        "sqs:UntagQueue",
      ],
      arn(ctx, "sqs", `${prefix}-*`),
    ),
    // Auto Scaling and ELB create their service-linked roles on an account's first group or load balancer.
    allow("ServiceLinkedRoles", "iam:CreateServiceLinkedRole", arn(ctx, "iam", "role/aws-service-role/*", { region: false }), {
      StringEquals: { "iam:AWSServiceName": ["autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com"] },
    }),
  ];
  if (env.waf) {
    platform.push(
      allow("WafOwnAcl", "wafv2:*", [
        arn(ctx, "wafv2", `regional/webacl/${prefix}/*`),
        arn(ctx, "wafv2", "regional/managedruleset/*/*"),
        lb,
      ]),
      // WAF's logs are "vended" logs: setting up their delivery needs logs:CreateLogDelivery (on all
      // resources), and logs:PutResourcePolicy and DescribeResourcePolicies (CloudWatch Logs User Guide,
      // AWS-logs-infrastructure-CWL.html, "User permissions", which asks for a wildcard log-group ARN
      // "instead of specifying only a single log group name"). The Service Authorization Reference
      // lists neither with a resource type (iam-data: wildcard-only), and IAM matches a wildcard-only
      // action only on "*": a log-group ARN here would grant nothing (__tests__/iam-policies-valid.test.ts).
      allow(
        "WafLogDeliveryAnywhere",
        ["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:GetLogDelivery", "logs:ListLogDeliveries"],
        "*",
      ),
      allow("WafLogResourcePolicyAnywhere", ["logs:PutResourcePolicy", "logs:DescribeResourcePolicies"], "*"),
    );
  }

  const role = arn(ctx, "iam", `role/${prefix}-*`, { region: false });
  const boundary = permissionsBoundaryArn(partition, ctx.accountId, app, env.name);
  const images = imageParameters(config, env);
  const data: Statement[] = [
    // Roles of the environment only with its boundary, so that none can do more than the boundary allows.
    allow(
      "IamCreateBoundedRoles",
      ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"],
      role,
      { StringEquals: { "iam:PermissionsBoundary": boundary } },
    ),
    // No iam:UpdateAssumeRolePolicy: the roles' trust (EC2, VPC Flow Logs) is set when they are
    // created; changing it would let this role make one of its environment's roles assumable by anyone
    // it names, itself included. A stack change to a trust policy fails the deploy: run it with
    // administrator credentials, or replace the role.
    allow("IamChangeOwnRoles", ["iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole", "iam:UpdateRoleDescription"], role),
    allow(
      "IamOwnInstanceProfiles",
      [
        "iam:CreateInstanceProfile",
        "iam:DeleteInstanceProfile",
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:TagInstanceProfile",
        "iam:UntagInstanceProfile",
      ],
      arn(ctx, "iam", `instance-profile/${prefix}-*`, { region: false }),
    ),
    // The instance role to EC2 (instance profile, launch template), the flow-log role to VPC Flow Logs.
    allow("IamPassOwnRoles", "iam:PassRole", role, {
      StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com"] },
    }),
    // CreateKey takes no resource (the key does not exist yet): only with the environment's tags. Its
    // Tags need kms:TagResource "in an IAM policy that isn't restricted to particular KMS keys" (KMS
    // Developer Guide, https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html and
    // https://docs.aws.amazon.com/kms/latest/developerguide/manage-tags-api.html): on *, with the
    // request's tags; KMS has no CreateAction key, so the Deny statements below keep that TagResource
    // off every existing key of another environment, and off the app and environment tags of any
    // existing key ("Changing a tag or alias can allow or deny permission to the customer managed
    // key", same page).
    allow("KmsCreateTaggedKeyAnywhere", ["kms:CreateKey", "kms:TagResource"], "*", created),
    allow(
      "KmsOwnKeys",
      [
        "kms:PutKeyPolicy",
        "kms:EnableKeyRotation",
        "kms:DisableKeyRotation",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
        "kms:UpdateKeyDescription",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:UpdateAlias",
      ],
      arn(ctx, "kms", "key/*"),
      own,
    ),
    // An existing key (it has tags: every stack key is created with them) of another environment or
    // app: nothing at all. A key being created has no aws:ResourceTag yet (Null), so CreateKey's own
    // TagResource is not denied. What remains: a key of the account with no environment tag at all
    // (none of this app's) looks like a key being created, so this role could tag it as its own; a
    // key whose key policy does not allow IAM policies is out of its reach anyway.
    deny("KmsDenyOtherEnvironmentsKeys", "kms:*", arn(ctx, "kms", "key/*"), {
      Null: { "aws:ResourceTag/environment": "false" },
      StringNotEquals: { "aws:ResourceTag/environment": env.name },
    }),
    deny("KmsDenyOtherAppsKeys", "kms:*", arn(ctx, "kms", "key/*"), {
      Null: { "aws:ResourceTag/app": "false" },
      StringNotEquals: { "aws:ResourceTag/app": app },
    }),
    // An existing key's app and environment tags never change, its own included.
    deny("KmsDenyRetaggingOwnership", ["kms:TagResource", "kms:UntagResource"], arn(ctx, "kms", "key/*"), {
      "ForAnyValue:StringEquals": { "aws:TagKeys": ["app", "environment"] },
      Null: { "aws:ResourceTag/environment": "false" },
    }),
    allow("KmsOwnAlias", ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"], arn(ctx, "kms", kmsAliasName(app, env.name))),
    allow(
      "SsmOwnParameters",
      ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"],
      parameterArn(ctx, `${parameterPath(app, env.name)}*`),
    ),
    // The environment's Session Manager preferences document (stacks/session-logging.ts), by its name.
    allow(
      "SsmOwnSessionDocument",
      [
        "ssm:CreateDocument",
        "ssm:UpdateDocument",
        "ssm:UpdateDocumentDefaultVersion",
        "ssm:DeleteDocument",
        "ssm:AddTagsToResource",
        "ssm:RemoveTagsFromResource",
      ],
      arn(ctx, "ssm", `document/${prefix}-session`),
    ),
    // The access-log bucket is `<app>-<env>-<suffix>` (bucket_prefix), with the resources of
    // stacks/access-logs.ts: the bucket, its policy, public access block, ownership controls,
    // encryption, versioning and lifecycle. What the provider reads of a bucket is s3:GetBucket* plus
    // the configuration reads that are not so named; force_destroy empties it (object versions).
    // Not s3:*: no object reads or writes, no ACLs, replication or website. Unverified until a real
    // deploy, like the other sets (the emulated apply checks no permission).
    allow(
      "S3OwnBuckets",
      [
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:GetBucket*",
        "s3:PutBucketTagging",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketVersioning",
        "s3:GetLifecycleConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:GetEncryptionConfiguration",
        "s3:PutEncryptionConfiguration",
        "s3:GetAccelerateConfiguration",
        "s3:GetReplicationConfiguration",
      ],
      arn(ctx, "s3", `${prefix}-*`, { region: false, account: false }),
    ),
    allow(
      "S3EmptyOwnBuckets",
      ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      arn(ctx, "s3", `${prefix}-*/*`, { region: false, account: false }),
    ),
  ];
  if (images.read.length > 0) {
    // The launch template resolves the image parameter; the rollout reads it (managed/rollout.sh).
    data.push(
      allow(
        "SsmReadImageParameters",
        ["ssm:GetParameter", "ssm:GetParameters"],
        images.read.map((p) => parameterArn(ctx, p)),
      ),
    );
  }
  if (images.write.length > 0) {
    // CI promotes the image into this environment's parameter (templates/ci.yml.hbs).
    data.push(
      allow(
        "SsmPromoteImage",
        "ssm:PutParameter",
        images.write.map((p) => parameterArn(ctx, p)),
      ),
    );
  }
  if (config.backend) {
    const key = s3StateKey(config.backend, env.name);
    const bucket = arn(ctx, "s3", config.backend.bucket, { region: false, account: false });
    data.push(allow("WriteOwnState", "s3:PutObject", `${bucket}/${key}`));
    data.push(allow("LockOwnState", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], `${bucket}/${key}.tflock`));
  }
  const keep = granted(permissions);
  const parts: Record<string, Statement[]> = {
    read: readStatements(ctx, env, permissions),
    network: networkStatements.filter(keep),
    platform: platform.filter(keep),
    data: data.filter(keep),
  };
  // A part with no statement is no policy (IAM refuses an empty Statement).
  return Object.fromEntries(
    Object.entries(parts).flatMap(([part, statements]) => (statements.length > 0 ? [[part, doc(statements)]] : [])),
  );
}

/**
 * One environment's drift role: the reads of that environment's plan, nothing that changes anything.
 * Per environment, trusted only for the jobs of that environment's GitHub environment (its reviewers
 * and branch rules), because a plan reads every SecureString with decryption (readStatements): a
 * role that a push to the branch could assume would hand production's secrets to any workflow merged
 * there.
 */
export function driftPolicy(
  ctx: CiPolicyContext,
  env: EnvironmentConfig,
  permissions: DerivedPermissions = allPermissions(),
): PolicyDocument {
  return doc(readStatements(ctx, env, permissions));
}

/** Every SSM parameter an image may be resolved from or published to. */
function allImageParameters(config: AppConfig): string[] {
  const names = config.environments.flatMap((e) => (e.amiSource.mode === "ssm" ? [e.amiSource.parameter] : []));
  if (config.image.amiParameter) names.push(config.image.amiParameter);
  return [...new Set(names)].sort();
}

/**
 * The role of Packer's build instance (iam_instance_profile in packer/app.pkr.hcl), which the bootstrap
 * stack creates so that the bake role creates no role: Session Manager's agent for Packer's tunnel
 * (ssh_interface = "session_manager"), and ECR pull from the account's repositories of the app for a
 * private container image (packer/scripts/install-app.sh). The same Session Manager set as the
 * environments' boundary.
 */
export function packerBuildInstancePolicy(ctx: CiPolicyContext): PolicyDocument {
  const app = ctx.config.appName;
  return doc([
    allow(
      "SessionManagerAgentAnywhere",
      [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ],
      "*",
    ),
    // GetAuthorizationToken takes no resource (Service Authorization Reference, list_amazonelasticcontainerregistry.html).
    allow("EcrLoginAnywhere", "ecr:GetAuthorizationToken", "*"),
    allow(
      "EcrPullAppImage",
      ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      [arn(ctx, "ecr", `repository/${app}`), arn(ctx, "ecr", `repository/${app}/*`)],
    ),
  ]);
}

/** The ARNs of the build instance's role and profile (created by the bootstrap stack, at CI_IAM_PATH). */
export function packerBuildArns(ctx: CiPolicyContext): { role: string; profile: string } {
  const name = packerBuildRoleName(ctx.config.appName);
  return {
    role: arn(ctx, "iam", `role${CI_IAM_PATH}${name}`, { region: false }),
    profile: arn(ctx, "iam", `instance-profile${CI_IAM_PATH}${name}`, { region: false }),
  };
}

/**
 * The calls of Packer's amazon-ebs build that create something, each with run_tags in its
 * TagSpecifications (packer-plugin-amazon: builder/common/step_key_pair.go and step_security_group.go
 * tag the temporary key pair and group with RunTags; step_run_source_instance.go the instance and its
 * volumes; builder/ebs/step_create_ami.go the image and its snapshots, "Attaching run tags to AMI").
 */
const PACKER_TAGGED_ON_CREATE = ["RunInstances", "CreateKeyPair", "CreateSecurityGroup", "CreateImage"];

/** The bootstrap stack's own resources (its build network): app=<app>, environment=bootstrap. */
export const BOOTSTRAP_ENVIRONMENT_TAG = "bootstrap";

/**
 * The bake role: Packer's amazon-ebs build with the bootstrap's instance profile, in the bootstrap's
 * build subnet, over Session Manager (packer/app.pkr.hcl), the AMI id published to
 * image.amiParameter, the app image pushed to ECR (with --dockerfile), and `npm run images:prune`
 * (managed/prune-images.sh).
 *
 * It creates no IAM role or instance profile and changes none: a role that may iam:CreateRole and
 * iam:PutRolePolicy and iam:PassRole the result can give itself any right (IAM User Guide,
 * id_roles_use_passrole.html: "ensure that the permissions of the role that the user passes do not
 * exceed what you want the user to have";
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html). It passes the one
 * role the bootstrap made, to EC2 only
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/permission-to-pass-iam-roles.html: "specify
 * the ARNs of specific IAM roles with iam:PassRole").
 *
 * EC2, every right on a resource that carries this app's tag (positive conditions), nothing on an
 * untagged one:
 * - what Packer creates (key pair, security group, instance, volumes, image, snapshots) only with
 *   app=<app> and no environment tag in the request, tagged only in the create call (ec2:CreateAction;
 *   EC2 User Guide, supported-iam-actions-tagging.html), so the bake can mark nothing that exists as
 *   its own; then changed, stopped, deregistered or deleted only with those tags;
 * - where the instance runs and the group is made: only the subnet and VPC the bootstrap made
 *   (app=<app>, environment=bootstrap; stacks/build-network.ts), never another team's network;
 * - no ec2:AuthorizeSecurityGroupIngress at all: with ssh_interface = "session_manager" Packer adds no
 *   rule to its group (step_security_group.go: SkipSSHRuleCreation);
 * - the images and snapshots it may deregister and delete carry app=<app> since CreateImage (the
 *   root volume is encrypted at launch, so no encrypt_boot copy is made and none is untagged).
 * Packer's documented minimal set (docs/builders/index.mdx, "IAM Task or Instance Role") less what
 * this build does not call: ModifyImageAttribute and ModifySnapshotAttribute only share an AMI,
 * GetPasswordData is for Windows, the volume attach/detach and RegisterImage/CreateSnapshot calls are
 * the other builders', CopyImage is for encrypt_boot and other regions.
 * What remains on `*`, with its reason: the Describe calls (no narrower resource exists); the base
 * image (Canonical's or Amazon's, owned by another account, so no tag of ours); the network
 * interface RunInstances creates (Packer does not tag it).
 */
export function bakePolicy(ctx: CiPolicyContext): PolicyDocument {
  const { config } = ctx;
  const app = config.appName;
  const images = allImageParameters(config);
  const build = packerBuildArns(ctx);
  const ec2 = (type: string) => arn(ctx, "ec2", `${type}/*`);
  // AMI and snapshot ARNs carry no account (Service Authorization Reference, list_amazonec2.html).
  const image = arn(ctx, "ec2", "image/*", { account: false });
  const snapshot = arn(ctx, "ec2", "snapshot/*", { account: false });
  // The app's build resources: app=<app>, and no environment tag (an environment's carry one).
  const ownBuild = { ...tags("ResourceTag", app), ...BUILD_ONLY("ResourceTag") };
  const newBuild = { ...tags("RequestTag", app), ...BUILD_ONLY("RequestTag") };
  const buildNetwork = tags("ResourceTag", app, BOOTSTRAP_ENVIRONMENT_TAG);
  const statements: Statement[] = [
    // Describe calls take no resource narrower than *; the prune's Describe calls are among them.
    allow("PackerDescribeAnywhere", ["ec2:Describe*", "autoscaling:Describe*"], "*"),
    // The temporary key pair and security group, created with the run tags.
    allow("PackerCreateTagged", ["ec2:CreateKeyPair", "ec2:CreateSecurityGroup"], [ec2("key-pair"), ec2("security-group")], newBuild),
    allow("PackerGroupInBuildVpc", "ec2:CreateSecurityGroup", ec2("vpc"), buildNetwork),
    allow(
      "PackerDeleteOwnKeyAndGroup",
      ["ec2:DeleteKeyPair", "ec2:DeleteSecurityGroup"],
      [ec2("key-pair"), ec2("security-group")],
      ownBuild,
    ),
    // The build instance and its volumes: created only with the app's tag, in the build subnet, with
    // the build's own key pair and group.
    allow("PackerLaunchTagged", "ec2:RunInstances", [ec2("instance"), ec2("volume")], newBuild),
    allow("PackerLaunchInBuildSubnet", "ec2:RunInstances", ec2("subnet"), buildNetwork),
    allow("PackerLaunchWithOwnKeyAndGroup", "ec2:RunInstances", [ec2("key-pair"), ec2("security-group")], ownBuild),
    // The base image belongs to Canonical or Amazon (no tag of ours); the interface is new and untagged.
    allow("PackerLaunchFromAnywhere", "ec2:RunInstances", [image, ec2("network-interface")]),
    allow("PackerTagOnCreate", "ec2:CreateTags", [...["instance", "volume", "key-pair", "security-group"].map(ec2), image, snapshot], {
      StringEquals: { "ec2:CreateAction": PACKER_TAGGED_ON_CREATE },
    }),
    allow(
      "PackerOwnBuildInstance",
      ["ec2:StopInstances", "ec2:TerminateInstances", "ec2:ModifyInstanceAttribute", "ec2:CreateImage"],
      ec2("instance"),
      ownBuild,
    ),
    allow("PackerOwnVolumes", "ec2:DeleteVolume", ec2("volume"), ownBuild),
    // The AMI and its snapshots, tagged in CreateImage with the run tags (app=<app> among them).
    allow("PackerCreateImageTagged", "ec2:CreateImage", [image, snapshot], newBuild),
    // Packer then adds `tags` and `snapshot_tags` (step_create_tags.go) to what already is the app's,
    // keeping app=<app>: no untagged image or snapshot becomes the app's.
    allow("PackerTagOwnImages", "ec2:CreateTags", [image, snapshot], {
      StringEquals: { "aws:ResourceTag/app": app, "aws:RequestTag/app": app },
    }),
    // The prune deregisters the app's images and deletes their snapshots; Packer does the same when a
    // build fails after CreateImage.
    allow("DeregisterOwnImages", ["ec2:DeregisterImage", "ec2:DeleteSnapshot"], [image, snapshot], tags("ResourceTag", app)),
    // The bootstrap's build role, to EC2 only; Packer reads the profile first (step_iam_instance_profile.go:
    // GetInstanceProfile unless skip_profile_validation).
    allow("PackerPassBuildRole", "iam:PassRole", build.role, { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } }),
    allow("PackerReadBuildProfile", ["iam:GetInstanceProfile", "iam:GetRole"], [build.profile, build.role]),
    // ssh_interface = "session_manager": a port-forwarding session to the build instance (tagged with
    // the run tags, app=<app> among them), ended by Packer.
    allow("PackerSession", "ssm:StartSession", arn(ctx, "ec2", "instance/*"), ownBuild),
    allow("PackerSessionDocument", "ssm:StartSession", arn(ctx, "ssm", "document/AWS-StartPortForwardingSession", { account: false })),
    allow("PackerEndSession", ["ssm:TerminateSession", "ssm:ResumeSession"], arn(ctx, "ssm", "session/*")),
    // With --dockerfile the bake pushes the app image to ECR. GetAuthorizationToken takes no resource.
    allow("EcrLoginAnywhere", "ecr:GetAuthorizationToken", "*"),
    allow(
      "EcrPushAppImage",
      [
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        // The digest of this commit's tag, and whether it was pushed already (immutable tags).
        "ecr:DescribeImages",
      ],
      [arn(ctx, "ecr", `repository/${app}`), arn(ctx, "ecr", `repository/${app}/*`)],
    ),
  ];
  if (images.length > 0) {
    // The prune keeps what a resolve:ssm parameter names; the bake publishes to image.amiParameter.
    statements.push(
      allow(
        "ReadImageParameters",
        ["ssm:GetParameter", "ssm:GetParameters"],
        images.map((p) => parameterArn(ctx, p)),
      ),
    );
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
    allow(
      "SessionManagerAnywhere",
      [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "logs:DescribeLogGroups",
      ],
      "*",
    ),
    allow("OwnParameters", ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"], parameters),
    allow("DecryptOwnSecrets", "kms:Decrypt", arn(ctx, "kms", "key/*"), {
      StringLike: { "kms:EncryptionContext:PARAMETER_ARN": parameterArn(ctx, `${path}*`) },
    }),
    allow(
      "OwnLogs",
      ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
      [...logGroups, ...logGroups.map((g) => `${g}:*`)],
    ),
    // The boot completes its own group's launch lifecycle hook and reports a boot failure in its own
    // environment's namespace (stacks/instance-role.ts CompleteOwnLaunch, ReportOwnBootFailures).
    allow(
      "OwnLaunchHook",
      "autoscaling:CompleteLifecycleAction",
      arn(ctx, "autoscaling", `autoScalingGroup:*:autoScalingGroupName/${resourcePrefix(app, env.name)}`),
    ),
    allow("BootFailuresAnywhere", "cloudwatch:PutMetricData", "*", {
      StringEquals: { "cloudwatch:namespace": releaseMetricsNamespace(app, env.name) },
    }),
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
    Statement: [
      {
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
      },
    ],
  };
}

/** The audience configure-aws-credentials requests, and the provider's only client id. */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";
