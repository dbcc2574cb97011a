import type { Construct } from "constructs";
import { TerraformOutput, TerraformResource, TerraformStack, TerraformVariable } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { AppConfig, GitHubConfig } from "../managed/config";
import { partitionOf } from "../managed/aws-rules";
import { configureBackend, REQUIRED_TERRAFORM_VERSION } from "../managed/backend";
import { type DerivedPermissions, permissionsFor } from "../managed/deploy-permissions";
import { escapeTfStringMap } from "../managed/escape";
import {
  bakeRoleName,
  CI_IAM_PATH,
  CI_SESSION_SECONDS,
  deployRoleName,
  driftRoleName,
  GITHUB_OIDC_HOST,
  MANAGED_BY,
  packerBuildRoleName,
  permissionsBoundaryName,
} from "../managed/names";
import { BuildNetwork } from "./build-network";
import { ImageRepository } from "./image-repository";
import { StateBucket } from "./state-bucket";
import {
  BOOTSTRAP_ENVIRONMENT_TAG,
  bakePolicy,
  boundaryPolicy,
  type CiPolicyContext,
  deployPolicies,
  driftPolicy,
  GITHUB_OIDC_AUDIENCE,
  githubSubject,
  githubTrustPolicy,
  packerBuildInstancePolicy,
} from "../managed/ci-policies";

/** The stack's name: `cdktf.out/stacks/bootstrap`, `terraform/bootstrap` on export (managed/aws-rules.ts reserves it). */
export const BOOTSTRAP_STACK = BOOTSTRAP_ENVIRONMENT_TAG;

export interface BootstrapStackProps {
  /** The validated configuration, with its github block. */
  readonly config: AppConfig;
}

/**
 * What CI needs in the account, created once by someone with administrator credentials
 * (`npm run bootstrap`): the GitHub OIDC provider (or the existing one), a bake role for pushes to the
 * configured branch with the build network it may launch into, and per environment a deploy role and a
 * read-only drift role, each trusted only for that GitHub environment's jobs, and the permissions
 * boundary that every role the environment's stack creates carries. Roles and their rights:
 * managed/ci-policies.ts.
 *
 * The account id is a variable (`npm run bootstrap` passes the caller's), not a data source, so that
 * the plan is complete offline and every trust policy can be read in it.
 */
export class BootstrapStack extends TerraformStack {
  public readonly accountId: TerraformVariable;
  /** Created only when github.oidcProviderArn is empty. */
  public readonly oidcProvider?: IamOpenidConnectProvider;
  public readonly providerArn: string;
  public readonly bakeRole: IamRole;
  /** The role and instance profile of Packer's build instance: the only role the bake role may pass. */
  public readonly packerBuildRole: IamRole;
  public readonly packerBuildProfile: IamInstanceProfile;
  /** With a backend in the config: the bucket every stack's state lives in, this one's too (after its first apply). */
  public readonly stateBucket?: StateBucket;
  /** Where CI pushes the app image (stacks/image-repository.ts). */
  public readonly imageRepository: ImageRepository;
  /** The only network the bake role may launch into (stacks/build-network.ts). */
  public readonly buildNetwork: BuildNetwork;
  /** Per environment: the scheduled plan's read-only role, trusted for that GitHub environment's jobs. */
  public readonly driftRoles: Readonly<Record<string, IamRole>>;
  public readonly deployRoles: Readonly<Record<string, IamRole>>;
  public readonly boundaries: Readonly<Record<string, IamPolicy>>;

  constructor(scope: Construct, props: BootstrapStackProps) {
    const github = props.config.github;
    if (!github) throw new Error("the bootstrap stack needs github.repository in immutable.config.json");
    super(scope, BOOTSTRAP_STACK);
    const { config } = props;
    const app = config.appName;
    const partition = partitionOf(config.region);

    configureBackend(this, BOOTSTRAP_STACK, config.backend);
    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
    // environment=bootstrap: no deploy role's tag conditions (environment=<env>) match these resources.
    const tags = { ...escapeTfStringMap(config.tags), app, environment: BOOTSTRAP_STACK, "managed-by": MANAGED_BY };
    const provider = new AwsProvider(this, "aws", { region: config.region, defaultTags: [{ tags }] });
    if (config.backend) {
      // A fresh account has no bucket, yet this stack's backend is that bucket: `npm run bootstrap`
      // applies it with local state first, then moves the state in (managed/bootstrap.ts).
      const stateProvider =
        config.backend.region === config.region
          ? provider
          : new AwsProvider(this, "aws_state", { alias: "state", region: config.backend.region, defaultTags: [{ tags }] });
      this.stateBucket = new StateBucket(this, "state", { bucket: config.backend.bucket, provider: stateProvider });
    }

    this.accountId = new TerraformVariable(this, "account_id", {
      type: "string",
      description: "The AWS account the roles are created in (npm run bootstrap passes the caller's, from aws sts get-caller-identity)",
      validation: [{ condition: '${can(regex("^[0-9]{12}$", var.account_id))}', errorMessage: "The account_id value must be 12 digits." }],
    });
    const accountId = this.accountId.stringValue;
    // IAM allows one provider per URL in an account (CreateOpenIDConnectProvider: "You cannot register
    // the same provider multiple times in a single Amazon Web Services account"): create it, or use the
    // one github.oidcProviderArn names. Its ARN is arn:<partition>:iam::<account>:oidc-provider/<host>.
    const providerArn = github.oidcProviderArn || `arn:${partition}:iam::${accountId}:oidc-provider/${GITHUB_OIDC_HOST}`;
    if (!github.oidcProviderArn) {
      this.oidcProvider = new IamOpenidConnectProvider(this, "github", {
        url: `https://${GITHUB_OIDC_HOST}`,
        clientIdList: [GITHUB_OIDC_AUDIENCE],
        // No thumbprint: "AWS secures communication with some OIDC identity providers (IdPs) through our
        // library of trusted root certificate authorities (CAs) instead of using a certificate
        // thumbprint" (IAM API Reference, CreateOpenIDConnectProvider), GitHub's among them; the
        // provider's thumbprint_list is optional (hashicorp/aws 5.100.0).
      });
    }
    this.providerArn = providerArn;
    const dependsOn = this.oidcProvider ? [this.oidcProvider] : [];
    const ctx: CiPolicyContext = { config, partition, accountId };

    const role = (id: string, name: string, subject: string, description: string): IamRole => {
      const r = new IamRole(this, id, {
        name,
        path: CI_IAM_PATH,
        description,
        maxSessionDuration: CI_SESSION_SECONDS,
        assumeRolePolicy: JSON.stringify(githubTrustPolicy(providerArn, subject)),
        dependsOn,
      });
      if (github.oidcProviderArn) {
        // The existing provider must be the account's own: a role cannot trust another account's provider.
        r.addOverride("lifecycle.precondition", [
          {
            condition: `\${var.account_id == "${github.oidcProviderArn.split(":")[4]}"}`,
            error_message: `github.oidcProviderArn is a provider of account ${github.oidcProviderArn.split(":")[4]}, not of the account_id given.`,
          },
        ]);
      }
      return r;
    };
    const inline = (id: string, target: IamRole, name: string, policy: unknown): IamRolePolicy =>
      new IamRolePolicy(this, id, { name, role: target.id, policy: JSON.stringify(policy) });

    const branch = { branch: github.branch };
    this.bakeRole = role(
      "bake",
      bakeRoleName(app),
      githubSubject(github.repository, branch),
      `Bakes ${app}'s images: GitHub Actions on pushes to ${github.branch} of ${github.repository}`,
    );
    inline("bake-policy", this.bakeRole, "bake", bakePolicy(ctx));
    // Packer's build instance gets this profile (packer/app.pkr.hcl, iam_instance_profile, which CI sets
    // from the repository variable PACKER_INSTANCE_PROFILE): made here, by an administrator, so that the
    // bake role needs no iam:CreateRole, iam:PutRolePolicy or iam:CreateInstanceProfile, with which it
    // could make and pass a role with any rights.
    const buildName = packerBuildRoleName(app);
    this.packerBuildRole = new IamRole(this, "packer_build", {
      name: buildName,
      path: CI_IAM_PATH,
      description: `Packer's build instance of ${app}'s images: Session Manager and ECR pull only`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Sid: "Ec2", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    inline("packer-build-policy", this.packerBuildRole, "build-instance", packerBuildInstancePolicy(ctx));
    this.packerBuildProfile = new IamInstanceProfile(this, "packer_build_profile", {
      name: buildName,
      path: CI_IAM_PATH,
      role: this.packerBuildRole.name,
    });
    this.imageRepository = new ImageRepository(this, "image", { name: app });
    this.buildNetwork = new BuildNetwork(this, "build_network", {
      namePrefix: `${app}-${BOOTSTRAP_STACK}-build`,
      // Under /<app>/bootstrap/: no environment is named bootstrap (managed/aws-rules.ts), so no
      // deploy role's logs:* on /<app>/<env>/* reaches it.
      flowLogGroupName: `/${app}/${BOOTSTRAP_STACK}/build-flow-logs`,
      keyAlias: `alias/${app}-${BOOTSTRAP_STACK}-build`,
      region: config.region,
      accountId,
      logRetentionDays: Math.max(...config.environments.map((e) => e.logRetentionDays)),
      rolePath: CI_IAM_PATH,
    });

    const deployRoles: Record<string, IamRole> = {};
    const driftRoles: Record<string, IamRole> = {};
    const boundaries: Record<string, IamPolicy> = {};
    for (const env of config.environments) {
      const id = env.name.replace(/-/g, "_");
      // The deploy and drift roles follow what the environment's stack holds, a team's own resources
      // included (managed/deploy-permissions.ts): an unknown resource type stops the synth here.
      const permissions = environmentPermissions(scope, env.name);
      boundaries[env.name] = new IamPolicy(this, `boundary_${id}`, {
        name: permissionsBoundaryName(app, env.name),
        path: CI_IAM_PATH,
        description: `Permissions boundary of the roles ${app} ${env.name} creates (instance role, flow-log role)`,
        policy: JSON.stringify(boundaryPolicy(ctx, env)),
      });
      const deploy = role(
        `deploy_${id}`,
        deployRoleName(app, env.name),
        githubSubject(github.repository, { environment: env.name }),
        `Deploys ${app} ${env.name}: GitHub Actions jobs of the ${env.name} environment of ${github.repository}`,
      );
      // Managed policies, one per concern: together they exceed the 10,240 characters IAM allows for a
      // role's inline policies (IAM User Guide, reference_iam-quotas.html).
      for (const [part, policy] of Object.entries(deployPolicies(ctx, env, permissions))) {
        const managed = new IamPolicy(this, `deploy_${id}_${part}`, {
          name: `${deployRoleName(app, env.name)}-${part}`,
          path: CI_IAM_PATH,
          description: `${app} ${env.name} deploy: ${part}`,
          policy: JSON.stringify(policy),
        });
        new IamRolePolicyAttachment(this, `deploy_${id}_${part}_attachment`, { role: deploy.name, policyArn: managed.arn });
      }
      deployRoles[env.name] = deploy;
      // The same subject as the deploy role: a plan decrypts the environment's secrets, so only the jobs
      // the environment's reviewers and branch rules admit may assume it (ci-policies.ts, driftPolicy).
      driftRoles[env.name] = role(
        `drift_${id}`,
        driftRoleName(app, env.name),
        githubSubject(github.repository, { environment: env.name }),
        `Plans ${app} ${env.name} read-only: the scheduled drift check, jobs of the ${env.name} environment of ${github.repository}`,
      );
      inline(`drift_${id}_policy`, driftRoles[env.name], "read", driftPolicy(ctx, env, permissions));
    }
    this.driftRoles = driftRoles;
    this.deployRoles = deployRoles;
    this.boundaries = boundaries;
    this.addOutputs(github);
  }

  private addOutputs(github: GitHubConfig): void {
    new TerraformOutput(this, "oidc_provider_arn", {
      value: this.providerArn,
      description: "The account's GitHub OIDC provider the roles trust",
    });
    new TerraformOutput(this, "bake_role_arn", { value: this.bakeRole.arn, description: "Repository variable AWS_BAKE_ROLE_ARN" });
    new TerraformOutput(this, "packer_instance_profile", {
      value: this.packerBuildProfile.name,
      description: "Repository variable PACKER_INSTANCE_PROFILE: the instance profile of Packer's build instance",
    });
    new TerraformOutput(this, "packer_subnet_id", {
      value: this.buildNetwork.subnet.id,
      description: "Repository variable PACKER_SUBNET_ID: the build subnet, the only one the bake role may launch into",
    });
    new TerraformOutput(this, "image_repository", {
      value: this.imageRepository.repository.repositoryUrl,
      description: "Repository variable IMAGE_REPOSITORY: the ECR repository CI pushes the app image to (with a Dockerfile)",
    });
    new TerraformOutput(this, "drift_role_arns", {
      value: Object.fromEntries(Object.entries(this.driftRoles).map(([env, r]) => [env, r.arn])),
      description: `Per GitHub environment of ${github.repository}: its variable AWS_DRIFT_ROLE_ARN`,
    });
    new TerraformOutput(this, "deploy_role_arns", {
      value: Object.fromEntries(Object.entries(this.deployRoles).map(([env, r]) => [env, r.arn])),
      description: `Per GitHub environment of ${github.repository}: its variable AWS_ROLE_ARN`,
    });
  }
}

/**
 * The resource types of the environment's stack, made before this one (stacks/app.ts adds the
 * environments first; a resource added beside the stack is made in its constructor), and what they need.
 */
function environmentPermissions(scope: Construct, environment: string): DerivedPermissions {
  const stack = scope.node.children.find((c): c is TerraformStack => c instanceof TerraformStack && c.node.id === environment);
  if (!stack) throw new Error(`the bootstrap stack is made after the environments' stacks; ${environment}'s is not there`);
  const types = stack.node.findAll().flatMap((c) => (c instanceof TerraformResource ? [c.terraformResourceType] : []));
  return permissionsFor(types, environment);
}
