/**
 * What the CI roles (managed/ci-policies.ts) may and may not do, decided by IAM's evaluation logic
 * (support/iam-eval.ts) on requests an attacker holding one role's credentials would make: the bake
 * role escalating through IAM, one environment's deploy role taking over another's resources by
 * re-tagging them, the drift role reading secrets outside SSM. Tag conditions are judged on the
 * request context each request would carry (aws:ResourceTag of the resource acted on, aws:RequestTag
 * and aws:TagKeys of the tags in the request, the service's CreateAction key on a create call).
 */
import { resolveConfig } from "../managed/config-validation";
import { bakePolicy, deployPolicies, driftPolicy } from "../managed/ci-policies";
import { exampleConfigJson } from "./support/synth";
import { type Decision, type PolicyDocument, type Request, simulate } from "./support/iam-eval";

const ACCOUNT = "123456789012";
const config = resolveConfig({
  ...exampleConfigJson(),
  backend: { bucket: "acme-terraform-state" },
  github: { repository: "acme/demo-app" },
  waf: true,
});
const ctx = { config, partition: "aws", accountId: ACCOUNT };
const [staging, production] = config.environments;
const region = config.region;

const as =
  (policies: PolicyDocument[]) =>
  (request: Request): Promise<Decision> =>
    simulate(policies, request);
const bake = as([bakePolicy(ctx) as unknown as PolicyDocument]);
const deployOf = (env: typeof staging) => as(Object.values(deployPolicies(ctx, env)) as unknown as PolicyDocument[]);
const stagingDeploy = deployOf(staging);
const driftOf = (env: typeof staging) => as([driftPolicy(ctx, env) as unknown as PolicyDocument]);

const tagsOf = (kind: "ResourceTag" | "RequestTag", env: string, app = "demo-app") => ({
  [`aws:${kind}/app`]: app,
  [`aws:${kind}/environment`]: env,
});

describe("the bake role cannot escalate through IAM", () => {
  const buildRole = `arn:aws:iam::${ACCOUNT}:role/github-actions/demo-app-packer-build`;

  it.each([
    ["iam:CreateRole", `arn:aws:iam::${ACCOUNT}:role/packer-0123`],
    ["iam:PutRolePolicy", `arn:aws:iam::${ACCOUNT}:role/packer-0123`],
    ["iam:AttachRolePolicy", `arn:aws:iam::${ACCOUNT}:role/packer-0123`],
    ["iam:CreateInstanceProfile", `arn:aws:iam::${ACCOUNT}:instance-profile/packer-0123`],
    ["iam:AddRoleToInstanceProfile", `arn:aws:iam::${ACCOUNT}:instance-profile/packer-0123`],
    ["iam:PutRolePolicy", buildRole],
    ["iam:AttachRolePolicy", buildRole],
    ["iam:UpdateAssumeRolePolicy", buildRole],
    ["iam:CreatePolicyVersion", `arn:aws:iam::${ACCOUNT}:policy/anything`],
  ])("%s on %s: denied", async (action, resource) => {
    expect(await bake({ action, resource })).toBe("ImplicitDeny");
  });

  it("passes the bootstrap's build role to EC2 only, and no other role to anything", async () => {
    expect(await bake({ action: "iam:PassRole", resource: buildRole, context: { "iam:PassedToService": "ec2.amazonaws.com" } })).toBe(
      "Allow",
    );
    expect(await bake({ action: "iam:PassRole", resource: buildRole, context: { "iam:PassedToService": "lambda.amazonaws.com" } })).toBe(
      "ImplicitDeny",
    );
    for (const other of [
      `arn:aws:iam::${ACCOUNT}:role/packer-0123`,
      `arn:aws:iam::${ACCOUNT}:role/github-actions/demo-app-bake`,
      `arn:aws:iam::${ACCOUNT}:role/demo-app-production-instance`,
      `arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`,
    ]) {
      expect([
        other,
        await bake({ action: "iam:PassRole", resource: other, context: { "iam:PassedToService": "ec2.amazonaws.com" } }),
      ]).toEqual([other, "ImplicitDeny"]);
    }
    // Packer validates the profile before it launches (step_iam_instance_profile.go).
    expect(
      await bake({
        action: "iam:GetInstanceProfile",
        resource: `arn:aws:iam::${ACCOUNT}:instance-profile/github-actions/demo-app-packer-build`,
      }),
    ).toBe("Allow");
  });
});

describe("the bake role's EC2 rights are the app's build instance and images", () => {
  const instance = `arn:aws:ec2:${region}:${ACCOUNT}:instance/i-0123456789abcdef0`;
  const image = `arn:aws:ec2:${region}::image/ami-0123456789abcdef0`;

  it("launches only with the app's tag, and tags only in the launch", async () => {
    expect(await bake({ action: "ec2:RunInstances", resource: instance, context: { "aws:RequestTag/app": "demo-app" } })).toBe("Allow");
    expect(await bake({ action: "ec2:RunInstances", resource: instance, context: { "aws:RequestTag/app": "other" } })).toBe("ImplicitDeny");
    expect(await bake({ action: "ec2:RunInstances", resource: instance })).toBe("ImplicitDeny");
    expect(
      await bake({
        action: "ec2:CreateTags",
        resource: instance,
        context: { "ec2:CreateAction": "RunInstances", "aws:RequestTag/app": "demo-app" },
      }),
    ).toBe("Allow");
    expect(
      await bake({
        action: "ec2:CreateTags",
        resource: instance,
        context: { "aws:RequestTag/app": "demo-app", "aws:ResourceTag/app": "other" },
      }),
    ).toBe("ImplicitDeny");
  });

  it("stops, images and terminates only the app's instances", async () => {
    for (const action of ["ec2:TerminateInstances", "ec2:StopInstances", "ec2:ModifyInstanceAttribute", "ec2:CreateImage"]) {
      expect([action, await bake({ action, resource: instance, context: { "aws:ResourceTag/app": "demo-app" } })]).toEqual([
        action,
        "Allow",
      ]);
      expect([action, await bake({ action, resource: instance, context: { "aws:ResourceTag/app": "other" } })]).toEqual([
        action,
        "ImplicitDeny",
      ]);
      expect([action, await bake({ action, resource: instance })]).toEqual([action, "ImplicitDeny"]);
    }
  });

  it("reaches no environment's instance or security group: the build instance is the app's instance without an environment tag", async () => {
    const envInstance = { "aws:ResourceTag/app": "demo-app", "aws:ResourceTag/environment": "production" };
    for (const action of ["ec2:TerminateInstances", "ec2:StopInstances", "ec2:ModifyInstanceAttribute", "ec2:CreateImage"]) {
      expect([action, await bake({ action, resource: instance, context: envInstance })]).toEqual([action, "ImplicitDeny"]);
    }
    expect(await bake({ action: "ssm:StartSession", resource: instance, context: envInstance })).toBe("ImplicitDeny");
    expect(await bake({ action: "ssm:StartSession", resource: instance, context: { "aws:ResourceTag/app": "demo-app" } })).toBe("Allow");
    expect(
      await bake({
        action: "ec2:RunInstances",
        resource: instance,
        context: { "aws:RequestTag/app": "demo-app", "aws:RequestTag/environment": "production" },
      }),
    ).toBe("ImplicitDeny");
    const group = `arn:aws:ec2:${region}:${ACCOUNT}:security-group/sg-0123456789abcdef0`;
    const envGroup = { "aws:ResourceTag/app": "demo-app", "aws:ResourceTag/environment": "production" };
    const ownGroup = { "aws:ResourceTag/app": "demo-app" };
    expect(await bake({ action: "ec2:RunInstances", resource: group, context: envGroup })).toBe("ImplicitDeny");
    expect(await bake({ action: "ec2:RunInstances", resource: group, context: ownGroup })).toBe("Allow");
    expect(await bake({ action: "ec2:DeleteSecurityGroup", resource: group, context: ownGroup })).toBe("Allow");
    for (const action of ["ec2:RunInstances", "ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup"]) {
      expect([action, await bake({ action, resource: group, context: envGroup })]).toEqual([action, "ImplicitDeny"]);
      expect([action, await bake({ action, resource: group, context: { "aws:ResourceTag/app": "other-app" } })]).toEqual([
        action,
        "ImplicitDeny",
      ]);
      // An untagged group: another team's, or a VPC's default group.
      expect([action, await bake({ action, resource: group })]).toEqual([action, "ImplicitDeny"]);
    }
    // No rule on any group, its own included: Session Manager needs none.
    expect(await bake({ action: "ec2:AuthorizeSecurityGroupIngress", resource: group, context: ownGroup })).toBe("ImplicitDeny");
  });

  it("launches only into the bootstrap's build subnet, and makes its group only in the build VPC", async () => {
    const subnet = `arn:aws:ec2:${region}:${ACCOUNT}:subnet/subnet-0123456789abcdef0`;
    const vpc = `arn:aws:ec2:${region}:${ACCOUNT}:vpc/vpc-0123456789abcdef0`;
    const buildNetwork = { "aws:ResourceTag/app": "demo-app", "aws:ResourceTag/environment": "bootstrap" };
    expect(await bake({ action: "ec2:RunInstances", resource: subnet, context: buildNetwork })).toBe("Allow");
    expect(await bake({ action: "ec2:CreateSecurityGroup", resource: vpc, context: buildNetwork })).toBe("Allow");
    for (const context of [{}, tagsOf("ResourceTag", "production"), { ...buildNetwork, "aws:ResourceTag/app": "other-app" }]) {
      expect(await bake({ action: "ec2:RunInstances", resource: subnet, context })).toBe("ImplicitDeny");
      expect(await bake({ action: "ec2:CreateSecurityGroup", resource: vpc, context })).toBe("ImplicitDeny");
    }
  });

  it("creates its key pair and group only tagged as the app's build, deletes only those", async () => {
    const key = `arn:aws:ec2:${region}:${ACCOUNT}:key-pair/packer_0123`;
    const group = `arn:aws:ec2:${region}:${ACCOUNT}:security-group/sg-0123456789abcdef0`;
    for (const [action, resource] of [
      ["ec2:CreateKeyPair", key],
      ["ec2:CreateSecurityGroup", group],
    ]) {
      expect(await bake({ action, resource, context: { "aws:RequestTag/app": "demo-app" } })).toBe("Allow");
      expect(await bake({ action, resource })).toBe("ImplicitDeny");
      expect(await bake({ action, resource, context: tagsOf("RequestTag", "production") })).toBe("ImplicitDeny");
    }
    expect(await bake({ action: "ec2:DeleteKeyPair", resource: key, context: { "aws:ResourceTag/app": "demo-app" } })).toBe("Allow");
    expect(await bake({ action: "ec2:DeleteKeyPair", resource: key })).toBe("ImplicitDeny");
  });

  it("shares no image or snapshot (no ami_users), and deregisters no other app's image", async () => {
    expect(await bake({ action: "ec2:ModifyImageAttribute", resource: image, context: { "aws:ResourceTag/app": "demo-app" } })).toBe(
      "ImplicitDeny",
    );
    expect(
      await bake({
        action: "ec2:ModifySnapshotAttribute",
        resource: `arn:aws:ec2:${region}::snapshot/snap-0123`,
        context: { "aws:ResourceTag/app": "demo-app" },
      }),
    ).toBe("ImplicitDeny");
    expect(await bake({ action: "ec2:DeregisterImage", resource: image, context: { "aws:ResourceTag/app": "demo-app" } })).toBe("Allow");
    expect(await bake({ action: "ec2:DeregisterImage", resource: image, context: { "aws:ResourceTag/app": "other" } })).toBe(
      "ImplicitDeny",
    );
    expect(await bake({ action: "ec2:CreateTags", resource: image, context: { "aws:RequestTag/app": "other" } })).toBe("ImplicitDeny");
  });

  it("deregisters and deletes no untagged image or snapshot, and cannot make one the app's by tagging it", async () => {
    const snapshot = `arn:aws:ec2:${region}::snapshot/snap-0123456789abcdef0`;
    for (const [action, resource] of [
      ["ec2:DeregisterImage", image],
      ["ec2:DeleteSnapshot", snapshot],
    ]) {
      expect([action, await bake({ action, resource })]).toEqual([action, "ImplicitDeny"]);
      expect([action, await bake({ action, resource, context: { "aws:ResourceTag/app": "demo-app" } })]).toEqual([action, "Allow"]);
    }
    for (const resource of [image, snapshot]) {
      // An untagged backup snapshot, tagged app=demo-app outside a create call: refused.
      expect(await bake({ action: "ec2:CreateTags", resource, context: { "aws:RequestTag/app": "demo-app" } })).toBe("ImplicitDeny");
      // In CreateImage (Packer's run tags), or more tags on what is the app's already: allowed.
      expect(
        await bake({
          action: "ec2:CreateTags",
          resource,
          context: { "ec2:CreateAction": "CreateImage", "aws:RequestTag/app": "demo-app" },
        }),
      ).toBe("Allow");
      expect(
        await bake({
          action: "ec2:CreateTags",
          resource,
          context: { "aws:ResourceTag/app": "demo-app", "aws:RequestTag/app": "demo-app" },
        }),
      ).toBe("Allow");
    }
    expect(await bake({ action: "ec2:CreateImage", resource: snapshot })).toBe("ImplicitDeny");
    expect(await bake({ action: "ec2:CreateImage", resource: snapshot, context: { "aws:RequestTag/app": "demo-app" } })).toBe("Allow");
    expect(await bake({ action: "ec2:CopyImage", resource: image, context: { "aws:RequestTag/app": "demo-app" } })).toBe("ImplicitDeny");
  });
});

describe("a deploy role cannot take over another environment's resources by tagging them", () => {
  const targetGroup = `arn:aws:elasticloadbalancing:${region}:${ACCOUNT}:targetgroup/demo-a/0123456789abcdef`;
  const key = `arn:aws:kms:${region}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

  it("staging's deploy role cannot AddTags environment=staging onto a production-tagged target group", async () => {
    expect(
      await stagingDeploy({
        action: "elasticloadbalancing:AddTags",
        resource: targetGroup,
        context: { ...tagsOf("ResourceTag", "production"), ...tagsOf("RequestTag", "staging"), "aws:TagKeys": ["app", "environment"] },
      }),
    ).not.toBe("Allow");
    // Without the tag keys in the request either (the ownership-tag Deny aside, no Allow matches).
    expect(
      await stagingDeploy({
        action: "elasticloadbalancing:AddTags",
        resource: targetGroup,
        context: { ...tagsOf("ResourceTag", "production"), ...tagsOf("RequestTag", "staging") },
      }),
    ).toBe("ImplicitDeny");
  });

  it("tags a target group in CreateTargetGroup only, with its own environment's tags", async () => {
    const create = {
      ...tagsOf("RequestTag", "staging"),
      "aws:TagKeys": ["app", "environment"],
      "elasticloadbalancing:CreateAction": "CreateTargetGroup",
    };
    expect(
      await stagingDeploy({
        action: "elasticloadbalancing:CreateTargetGroup",
        resource: targetGroup,
        context: tagsOf("RequestTag", "staging"),
      }),
    ).toBe("Allow");
    expect(await stagingDeploy({ action: "elasticloadbalancing:AddTags", resource: targetGroup, context: create })).toBe("Allow");
    expect(
      await stagingDeploy({
        action: "elasticloadbalancing:AddTags",
        resource: targetGroup,
        context: { ...create, ...tagsOf("RequestTag", "production") },
      }),
    ).toBe("ImplicitDeny");
  });

  it("cannot move its own target group's or load balancer's app and environment tags, nor remove them", async () => {
    const lb = `arn:aws:elasticloadbalancing:${region}:${ACCOUNT}:loadbalancer/app/demo-app-staging/0123`;
    for (const resource of [targetGroup, lb]) {
      for (const action of ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"]) {
        expect([
          resource,
          action,
          await stagingDeploy({ action, resource, context: { ...tagsOf("ResourceTag", "staging"), "aws:TagKeys": ["environment"] } }),
        ]).toEqual([resource, action, "ExplicitDeny"]);
      }
      // Other tags of its own resources, as default_tags change: allowed.
      expect(
        await stagingDeploy({
          action: "elasticloadbalancing:AddTags",
          resource,
          context: { ...tagsOf("ResourceTag", "staging"), "aws:TagKeys": ["team"] },
        }),
      ).toBe("Allow");
    }
  });

  it("staging's deploy role cannot tag, administer or use a production-tagged KMS key: explicit Deny", async () => {
    for (const action of [
      "kms:TagResource",
      "kms:UntagResource",
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
      "kms:Decrypt",
      "kms:CreateAlias",
    ]) {
      expect([
        action,
        await stagingDeploy({
          action,
          resource: key,
          context: { ...tagsOf("ResourceTag", "production"), ...tagsOf("RequestTag", "staging"), "aws:TagKeys": ["environment"] },
        }),
      ]).toEqual([action, "ExplicitDeny"]);
    }
    expect(
      await stagingDeploy({
        action: "kms:TagResource",
        resource: key,
        context: { ...tagsOf("ResourceTag", "staging", "other-app"), ...tagsOf("RequestTag", "staging") },
      }),
    ).toBe("ExplicitDeny");
  });

  it("creates a key with its own environment's tags only, and keeps an existing key's ownership tags", async () => {
    const create = { ...tagsOf("RequestTag", "staging"), "aws:TagKeys": ["app", "environment"] };
    expect(await stagingDeploy({ action: "kms:CreateKey", resource: "*", context: tagsOf("RequestTag", "staging") })).toBe("Allow");
    expect(await stagingDeploy({ action: "kms:CreateKey", resource: "*", context: tagsOf("RequestTag", "production") })).toBe(
      "ImplicitDeny",
    );
    // CreateKey's own TagResource: no key yet, so no aws:ResourceTag.
    expect(await stagingDeploy({ action: "kms:TagResource", resource: key, context: create })).toBe("Allow");
    expect(
      await stagingDeploy({ action: "kms:TagResource", resource: key, context: { ...tagsOf("ResourceTag", "staging"), ...create } }),
    ).toBe("ExplicitDeny");
    expect(
      await stagingDeploy({
        action: "kms:TagResource",
        resource: key,
        context: { ...tagsOf("ResourceTag", "staging"), "aws:TagKeys": ["team"] },
      }),
    ).toBe("Allow");
    expect(await stagingDeploy({ action: "kms:PutKeyPolicy", resource: key, context: tagsOf("ResourceTag", "staging") })).toBe("Allow");
  });

  it("production's own role still administers production's key", async () => {
    expect(await deployOf(production)({ action: "kms:PutKeyPolicy", resource: key, context: tagsOf("ResourceTag", "production") })).toBe(
      "Allow",
    );
  });
});

describe("a deploy role has no rights on untagged security groups (another app's, or a VPC's default group)", () => {
  const group = `arn:aws:ec2:${region}:${ACCOUNT}:security-group/sg-0123456789abcdef0`;
  it.each([
    "ec2:CreateTags",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
  ])("%s: denied", async (action) => {
    expect(
      await stagingDeploy({
        action,
        resource: group,
        context: { "aws:RequestTag/app": "demo-app", "aws:RequestTag/environment": "staging" },
      }),
    ).not.toBe("Allow");
    expect(await stagingDeploy({ action, resource: group })).not.toBe("Allow");
  });
  it("but its own environment's groups, by their tags", async () => {
    expect(
      await stagingDeploy({ action: "ec2:RevokeSecurityGroupIngress", resource: group, context: tagsOf("ResourceTag", "staging") }),
    ).toBe("Allow");
    expect(
      await stagingDeploy({
        action: "ec2:AuthorizeSecurityGroupIngress",
        resource: group,
        context: { ...tagsOf("ResourceTag", "staging"), ...tagsOf("RequestTag", "staging") },
      }),
    ).toBe("Allow");
  });

  it("a create call is allowed only on the resource it creates: not on another environment's VPC, subnet or group it names", async () => {
    const ownRequest = tagsOf("RequestTag", "staging");
    const rule = `arn:aws:ec2:${region}:${ACCOUNT}:security-group-rule/sgr-0123456789abcdef0`;
    expect(await stagingDeploy({ action: "ec2:AuthorizeSecurityGroupIngress", resource: rule, context: ownRequest })).toBe("Allow");
    for (const [action, type] of [
      ["ec2:AuthorizeSecurityGroupIngress", "security-group"],
      ["ec2:CreateSubnet", "vpc"],
      ["ec2:CreateRouteTable", "vpc"],
      ["ec2:CreateNatGateway", "subnet"],
      ["ec2:CreateSecurityGroup", "vpc"],
      ["ec2:RunInstances", "subnet"],
    ]) {
      const parent = `arn:aws:ec2:${region}:${ACCOUNT}:${type}/${type}-0123456789abcdef0`;
      expect([
        action,
        type,
        await stagingDeploy({ action, resource: parent, context: { ...ownRequest, ...tagsOf("ResourceTag", "production") } }),
      ]).toEqual([action, type, "ImplicitDeny"]);
      expect([action, type, await stagingDeploy({ action, resource: parent, context: ownRequest })]).toEqual([
        action,
        type,
        "ImplicitDeny",
      ]);
      expect([
        action,
        type,
        await stagingDeploy({ action, resource: parent, context: { ...ownRequest, ...tagsOf("ResourceTag", "staging") } }),
      ]).toEqual([action, type, "Allow"]);
    }
  });
});

describe("the deploy role cannot rewrite who may assume its environment's roles", () => {
  it("has no iam:UpdateAssumeRolePolicy, even on its own environment's roles", async () => {
    expect(
      await stagingDeploy({ action: "iam:UpdateAssumeRolePolicy", resource: `arn:aws:iam::${ACCOUNT}:role/demo-app-staging-instance` }),
    ).toBe("ImplicitDeny");
    expect(await stagingDeploy({ action: "iam:DeleteRole", resource: `arn:aws:iam::${ACCOUNT}:role/demo-app-staging-instance` })).toBe(
      "Allow",
    );
  });
});

describe("kms:Decrypt only through SSM, for the app's environments' parameters", () => {
  const key = `arn:aws:kms:${region}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const viaSsm = { "kms:ViaService": `ssm.${region}.amazonaws.com` };
  const parameter = (env: string) => ({
    "kms:EncryptionContext:PARAMETER_ARN": `arn:aws:ssm:${region}:${ACCOUNT}:parameter/demo-app/${env}/secret/DB_PASSWORD`,
  });

  it("an environment's drift role decrypts its own environment's parameters through SSM, and nothing else", async () => {
    const drift = driftOf(production);
    // Staging's drift role (the one a staging job can assume) reads no production secret.
    expect(
      await driftOf(staging)({
        action: "kms:Decrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "production"), ...viaSsm, ...parameter("production") },
      }),
    ).toBe("ImplicitDeny");
    expect(
      await drift({
        action: "kms:Decrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "production"), ...viaSsm, ...parameter("production") },
      }),
    ).toBe("Allow");
    // A ciphertext handed to KMS directly, or through another service.
    expect(
      await drift({
        action: "kms:Decrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "production"), ...parameter("production") },
      }),
    ).toBe("ImplicitDeny");
    expect(
      await drift({
        action: "kms:Decrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "production"), "kms:ViaService": `s3.${region}.amazonaws.com`, ...parameter("production") },
      }),
    ).toBe("ImplicitDeny");
    // Another app's parameter, or one outside the environments' paths.
    expect(
      await drift({
        action: "kms:Decrypt",
        resource: key,
        context: {
          ...tagsOf("ResourceTag", "production"),
          ...viaSsm,
          "kms:EncryptionContext:PARAMETER_ARN": `arn:aws:ssm:${region}:${ACCOUNT}:parameter/other-app/production/secret/X`,
        },
      }),
    ).toBe("ImplicitDeny");
    expect(
      await drift({
        action: "kms:Decrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "production", "other-app"), ...viaSsm, ...parameter("production") },
      }),
    ).toBe("ImplicitDeny");
    expect(
      await drift({
        action: "kms:Encrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "production"), ...viaSsm, ...parameter("production") },
      }),
    ).toBe("ImplicitDeny");
  });

  it("a deploy role decrypts only its own environment's parameters, through SSM", async () => {
    expect(
      await stagingDeploy({
        action: "kms:Decrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "staging"), ...viaSsm, ...parameter("staging") },
      }),
    ).toBe("Allow");
    expect(
      await stagingDeploy({
        action: "kms:Decrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "staging"), ...parameter("staging") },
      }),
    ).toBe("ImplicitDeny");
    expect(
      await stagingDeploy({
        action: "kms:Decrypt",
        resource: key,
        context: { ...tagsOf("ResourceTag", "staging"), ...viaSsm, ...parameter("production") },
      }),
    ).toBe("ImplicitDeny");
  });
});

describe("S3: the environment's own buckets' configuration and the state objects, no s3:*", () => {
  const bucket = "arn:aws:s3:::demo-app-staging-access-logs-0123";
  it("configures, empties and deletes its access-log bucket, and reads or writes none of its objects", async () => {
    for (const action of [
      "s3:CreateBucket",
      "s3:PutBucketPolicy",
      "s3:GetBucketPolicy",
      "s3:PutLifecycleConfiguration",
      "s3:DeleteBucket",
    ]) {
      expect([action, await stagingDeploy({ action, resource: bucket })]).toEqual([action, "Allow"]);
    }
    expect(await stagingDeploy({ action: "s3:DeleteObjectVersion", resource: `${bucket}/AWSLogs/x` })).toBe("Allow");
    for (const action of ["s3:GetObject", "s3:PutObject", "s3:PutBucketAcl", "s3:PutReplicationConfiguration", "s3:PutBucketWebsite"]) {
      expect([action, await stagingDeploy({ action, resource: action.includes("Object") ? `${bucket}/x` : bucket })]).toEqual([
        action,
        "ImplicitDeny",
      ]);
    }
  });

  it("writes its own state object and lock, not another environment's", async () => {
    expect(await stagingDeploy({ action: "s3:PutObject", resource: "arn:aws:s3:::acme-terraform-state/demo-app/staging.tfstate" })).toBe(
      "Allow",
    );
    expect(await stagingDeploy({ action: "s3:PutObject", resource: "arn:aws:s3:::acme-terraform-state/demo-app/production.tfstate" })).toBe(
      "ImplicitDeny",
    );
    expect(await stagingDeploy({ action: "s3:DeleteObject", resource: "arn:aws:s3:::acme-terraform-state/demo-app/staging.tfstate" })).toBe(
      "ImplicitDeny",
    );
  });
});
