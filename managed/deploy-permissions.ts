/**
 * Which rights a deploy role needs, derived from what its environment's stack synthesizes: one table
 * from Terraform resource type to the grants (groups of IAM statements, managed/ci-policies.ts) that
 * creating, reading, changing and deleting a resource of that type takes, and, for EC2, the resource
 * types of the Service Authorization Reference (list_amazonec2.html) it creates with which call. The
 * bootstrap stack reads the resource types of each environment's stack when it is synthesized
 * (stacks/bootstrap-stack.ts), so a resource a team adds beside the stack (a queue, a bucket) extends
 * that environment's deploy role at the next `npm run bootstrap`; a type the table does not know stops
 * the synth with a message that names it and this file.
 */

/** A group of statements of the deploy role; each is defined once, in managed/ci-policies.ts. */
export type Grant =
  | "ec2Network"
  | "ec2Launch"
  | "elb"
  | "elbTargetGroups"
  | "autoscaling"
  | "alarms"
  | "logs"
  | "waf"
  | "wafLogs"
  | "iamRoles"
  | "iamProfiles"
  | "kms"
  | "kmsAlias"
  | "ssmParameters"
  | "ssmDocument"
  | "s3"
  | "sqs";

export interface TypePermissions {
  readonly grants: readonly Grant[];
  /**
   * EC2 resource types (the ARN's resource type) the Terraform type creates, each with the calls that
   * create it and may tag it on creation (ec2:CreateAction).
   */
  readonly ec2Creates?: Readonly<Record<string, readonly string[]>>;
}

/** Every Terraform resource type the environments' stacks may hold, with what it needs. */
export const DEPLOY_PERMISSIONS: Readonly<Record<string, TypePermissions>> = {
  aws_vpc: { grants: ["ec2Network"], ec2Creates: { vpc: ["ec2:CreateVpc"] } },
  aws_subnet: { grants: ["ec2Network"], ec2Creates: { subnet: ["ec2:CreateSubnet"] } },
  aws_internet_gateway: { grants: ["ec2Network"], ec2Creates: { "internet-gateway": ["ec2:CreateInternetGateway"] } },
  aws_route_table: { grants: ["ec2Network"], ec2Creates: { "route-table": ["ec2:CreateRouteTable"] } },
  aws_route_table_association: { grants: ["ec2Network"] },
  aws_route: { grants: ["ec2Network"] },
  aws_nat_gateway: { grants: ["ec2Network"], ec2Creates: { natgateway: ["ec2:CreateNatGateway"] } },
  aws_eip: { grants: ["ec2Network"], ec2Creates: { "elastic-ip": ["ec2:AllocateAddress"] } },
  aws_security_group: { grants: ["ec2Network"], ec2Creates: { "security-group": ["ec2:CreateSecurityGroup"] } },
  aws_vpc_security_group_ingress_rule: {
    grants: ["ec2Network"],
    ec2Creates: { "security-group-rule": ["ec2:AuthorizeSecurityGroupIngress"] },
  },
  aws_vpc_security_group_egress_rule: {
    grants: ["ec2Network"],
    ec2Creates: { "security-group-rule": ["ec2:AuthorizeSecurityGroupEgress"] },
  },
  aws_vpc_endpoint: { grants: ["ec2Network"], ec2Creates: { "vpc-endpoint": ["ec2:CreateVpcEndpoint"] } },
  aws_flow_log: { grants: ["ec2Network", "iamRoles"], ec2Creates: { "vpc-flow-log": ["ec2:CreateFlowLogs"] } },
  aws_launch_template: { grants: ["ec2Network"], ec2Creates: { "launch-template": ["ec2:CreateLaunchTemplate"] } },
  // The group launches instances from the template; its check of the template's image, interface and
  // groups is made with the caller's rights (unverified until a real deploy: ci-policies.ts, header).
  aws_autoscaling_group: {
    grants: ["autoscaling", "ec2Launch", "ec2Network"],
    ec2Creates: { instance: ["ec2:RunInstances"], volume: ["ec2:RunInstances"] },
  },
  aws_autoscaling_lifecycle_hook: { grants: ["autoscaling"] },
  aws_autoscaling_policy: { grants: ["autoscaling"] },
  aws_autoscaling_attachment: { grants: ["autoscaling"] },
  aws_lb: { grants: ["elb"] },
  aws_lb_listener: { grants: ["elb"] },
  aws_lb_listener_rule: { grants: ["elb"] },
  aws_lb_target_group: { grants: ["elbTargetGroups"] },
  aws_cloudwatch_metric_alarm: { grants: ["alarms"] },
  aws_cloudwatch_log_group: { grants: ["logs"] },
  aws_iam_role: { grants: ["iamRoles"] },
  aws_iam_role_policy: { grants: ["iamRoles"] },
  aws_iam_instance_profile: { grants: ["iamProfiles", "iamRoles"] },
  aws_kms_key: { grants: ["kms"] },
  aws_kms_key_policy: { grants: ["kms"] },
  aws_kms_alias: { grants: ["kmsAlias"] },
  aws_ssm_parameter: { grants: ["ssmParameters"] },
  aws_ssm_document: { grants: ["ssmDocument"] },
  aws_s3_bucket: { grants: ["s3"] },
  aws_s3_bucket_lifecycle_configuration: { grants: ["s3"] },
  aws_s3_bucket_ownership_controls: { grants: ["s3"] },
  aws_s3_bucket_policy: { grants: ["s3"] },
  aws_s3_bucket_public_access_block: { grants: ["s3"] },
  aws_s3_bucket_server_side_encryption_configuration: { grants: ["s3"] },
  aws_s3_bucket_versioning: { grants: ["s3"] },
  aws_wafv2_web_acl: { grants: ["waf"] },
  aws_wafv2_web_acl_association: { grants: ["waf", "elb"] },
  aws_wafv2_web_acl_logging_configuration: { grants: ["waf", "wafLogs"] },
  // A queue a team adds beside the stack, named <app>-<env>-* like every resource of the environment.
  aws_sqs_queue: { grants: ["sqs"] },
  aws_sqs_queue_policy: { grants: ["sqs"] },
  aws_sqs_queue_redrive_policy: { grants: ["sqs"] },
};

export const DEPLOY_PERMISSIONS_FILE = "managed/deploy-permissions.ts";

/** What a stack's resource types need: every grant, and the EC2 create calls by EC2 resource type. */
export interface DerivedPermissions {
  readonly grants: ReadonlySet<Grant>;
  readonly ec2Creates: Readonly<Record<string, readonly string[]>>;
}

/** The grants of `types`; a type the table does not know is an error naming it, the stack and this file. */
export function permissionsFor(types: Iterable<string>, stack: string): DerivedPermissions {
  const grants = new Set<Grant>();
  const ec2Creates: Record<string, string[]> = {};
  const unknown: string[] = [];
  for (const type of [...new Set(types)].sort()) {
    const entry = DEPLOY_PERMISSIONS[type];
    if (!entry) {
      unknown.push(type);
      continue;
    }
    for (const grant of entry.grants) grants.add(grant);
    for (const [ec2Type, calls] of Object.entries(entry.ec2Creates ?? {})) {
      ec2Creates[ec2Type] = [...new Set([...(ec2Creates[ec2Type] ?? []), ...calls])].sort();
    }
  }
  if (unknown.length > 0) {
    throw new Error(
      `the stack ${stack} has resources of type ${unknown.join(", ")}, for which the deploy role has no rights: ` +
        `add each type to DEPLOY_PERMISSIONS in ${DEPLOY_PERMISSIONS_FILE} with the grants it needs ` +
        `(the IAM actions are in the Service Authorization Reference, docs.aws.amazon.com/service-authorization), ` +
        `or upgrade create-immutable-app if a newer one knows it; then run npm run bootstrap again`,
    );
  }
  return { grants, ec2Creates };
}

/** The permissions of every type of the table: what a deploy role has when no stack is given. */
export function allPermissions(): DerivedPermissions {
  return permissionsFor(Object.keys(DEPLOY_PERMISSIONS), "(every type)");
}
