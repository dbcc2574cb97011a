import { Construct } from "constructs";
import { Fn, TerraformLocal } from "cdktf";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsKeyPolicy } from "@cdktf/provider-aws/lib/kms-key-policy";
import { dnsSuffixOf, partitionOf } from "../managed/aws-rules";

export interface EncryptionKeyProps {
  /** `alias/<app>-<env>-secrets`. */
  readonly aliasName: string;
  readonly description: string;
  readonly region: string;
  /**
   * Log group names (or patterns ending in `*`) that CloudWatch Logs may encrypt with this key.
   * @default none
   */
  readonly logGroups?: readonly string[];
  /** Terraform refuses to destroy the key (deletion-protected environments). @default false */
  readonly preventDestroy?: boolean;
}

/**
 * The environment's customer managed key: it encrypts the SecureString parameters and the log groups.
 * Its policy is the one AWS applies by default (the account may grant access through IAM) plus, when
 * log groups are named, CloudWatch Logs' use of the key for exactly those groups.
 */
export class EncryptionKey extends Construct {
  public readonly key: KmsKey;
  public readonly alias: KmsAlias;
  public readonly policy: KmsKeyPolicy;
  /** The account id, read off the key's ARN so that no AWS data source is needed at plan time. */
  public readonly accountId: string;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const partition = partitionOf(props.region);
    this.key = new KmsKey(this, "key", {
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      lifecycle: { preventDestroy: props.preventDestroy ?? false },
    });
    this.alias = new KmsAlias(this, "alias", { name: props.aliasName, targetKeyId: this.key.keyId });
    this.accountId = new TerraformLocal(this, "account_id", Fn.element(Fn.split(":", this.key.arn), 4)).asString;

    const statements: Record<string, unknown>[] = [
      {
        // KMS Developer Guide, key-policy-default.html: the default policy "gives the AWS account that
        // owns the KMS key permission to use IAM policies to allow access to all AWS KMS operations".
        Sid: "AccountUsesIamPolicies",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${this.accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ];
    if (props.logGroups && props.logGroups.length > 0) {
      // CloudWatch Logs User Guide, encrypt-log-data-kms.html, "Set permissions on the key": the
      // service principal of the key's region, limited by the aws:logs:arn encryption context.
      statements.push({
        Sid: "CloudWatchLogsEncryptsOwnGroups",
        Effect: "Allow",
        Principal: { Service: `logs.${props.region}.${dnsSuffixOf(props.region)}` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": props.logGroups.map(
              (group) => `arn:${partition}:logs:${props.region}:${this.accountId}:log-group:${group}`,
            ),
          },
        },
      });
    }
    this.policy = new KmsKeyPolicy(this, "policy", {
      keyId: this.key.id,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
    });
  }
}
