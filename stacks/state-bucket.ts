import { Construct } from "constructs";
import type { TerraformProvider } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA as S3BucketVersioning } from "@cdktf/provider-aws/lib/s3-bucket-versioning";

/** The Terraform addresses `npm run bootstrap` imports, migrates around and keeps on destroy (managed/bootstrap.ts). */
export const STATE_BUCKET_ADDRESS = "aws_s3_bucket.state_bucket";
export const STATE_BUCKET_RESOURCES = [
  STATE_BUCKET_ADDRESS,
  "aws_s3_bucket_public_access_block.state_bucket_public_access",
  "aws_s3_bucket_ownership_controls.state_bucket_ownership",
  "aws_s3_bucket_server_side_encryption_configuration.state_bucket_encryption",
  "aws_s3_bucket_versioning.state_bucket_versioning",
  "aws_s3_bucket_lifecycle_configuration.state_bucket_lifecycle",
  "aws_s3_bucket_policy.state_bucket_policy",
] as const;

export interface StateBucketProps {
  /** backend.bucket of the config. */
  readonly bucket: string;
  /** The provider of backend.region (the bucket's region may differ from the app's). */
  readonly provider: TerraformProvider;
}

/**
 * The S3 bucket every stack keeps its state in (backend in the config; managed/backend.ts, S3 native
 * locking with `<key>.tflock` objects). Versioned, so that a state overwritten by mistake can be read
 * back (Terraform's S3 backend docs: "it is highly recommended that you enable Bucket Versioning on
 * the S3 bucket to allow for state recovery in the case of accidental deletions and human error");
 * encrypted with SSE-S3, so that the CI roles need no KMS right to read and write their state; no
 * public access, objects owned by the bucket owner, TLS only; old versions expire after 90 days.
 * Terraform refuses to destroy it (prevent_destroy); `npm run bootstrap -- --destroy` leaves it.
 */
export class StateBucket extends Construct {
  public readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    const provider = props.provider;
    // Fixed addresses: managed/bootstrap.ts names them (import, state rm on destroy).
    const fixed = <T extends { overrideLogicalId(id: string): void }>(resource: T, logicalId: string): T => {
      resource.overrideLogicalId(logicalId);
      return resource;
    };
    this.bucket = fixed(
      new S3Bucket(this, "bucket", { provider, bucket: props.bucket, lifecycle: { preventDestroy: true }, tags: { Name: props.bucket } }),
      "state_bucket",
    );
    const bucket = this.bucket.id;
    const publicAccess = fixed(
      new S3BucketPublicAccessBlock(this, "public-access", {
        provider,
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }),
      "state_bucket_public_access",
    );
    fixed(
      new S3BucketOwnershipControls(this, "ownership", { provider, bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }),
      "state_bucket_ownership",
    );
    fixed(
      new S3BucketServerSideEncryptionConfiguration(this, "encryption", {
        provider,
        bucket,
        rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      }),
      "state_bucket_encryption",
    );
    fixed(
      new S3BucketVersioning(this, "versioning", { provider, bucket, versioningConfiguration: { status: "Enabled" } }),
      "state_bucket_versioning",
    );
    fixed(
      new S3BucketLifecycleConfiguration(this, "lifecycle", {
        provider,
        bucket,
        rule: [
          {
            id: "expire-old-state-versions",
            status: "Enabled",
            filter: [{ prefix: "" }],
            noncurrentVersionExpiration: [{ noncurrentDays: 90 }],
            abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
          },
        ],
      }),
      "state_bucket_lifecycle",
    );
    fixed(
      new S3BucketPolicy(this, "policy", {
        provider,
        bucket,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              // As stacks/access-logs.ts: AWS Config's s3-bucket-ssl-requests-only.
              Sid: "TlsOnly",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
        // Both at once can fail with OperationAborted (hashicorp/terraform-provider-aws#7628).
        dependsOn: [publicAccess],
      }),
      "state_bucket_policy",
    );
  }
}
