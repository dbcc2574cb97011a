import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA as S3BucketVersioning } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { elbLogDeliveryPrincipal } from "../managed/aws-rules";

export interface AccessLogsProps {
  /** `<app>-<env>`; the bucket is `<app>-<env>-<unique suffix>`. */
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly retentionDays: number;
  /**
   * Delete the bucket with its logs on destroy (environments without deletion protection); otherwise
   * Terraform refuses to destroy it.
   */
  readonly forceDestroy: boolean;
}

/**
 * The bucket the load balancer writes its access logs to (ELB User Guide, enable-access-logging.html):
 * in the load balancer's region, SSE-S3 ("The only server-side encryption option that's supported is
 * Amazon S3-managed keys (SSE-S3)"), writable by the region's log delivery principal under
 * AWSLogs/<account>/ only; no public access, TLS only, objects owned by the bucket owner, logs expire.
 */
export class AccessLogs extends Construct {
  public readonly bucket: S3Bucket;
  /** The load balancer's access_logs need it in place: ELB checks that it may write when they are set. */
  public readonly policy: S3BucketPolicy;

  constructor(scope: Construct, id: string, props: AccessLogsProps) {
    super(scope, id);
    // bucket_prefix: at most 37 characters (63 less the provider's 26-character suffix).
    this.bucket = new S3Bucket(this, "bucket", {
      bucketPrefix: `${props.namePrefix}-`,
      forceDestroy: props.forceDestroy,
      tags: { Name: `${props.namePrefix}-access-logs` },
      lifecycle: { preventDestroy: !props.forceDestroy },
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketServerSideEncryptionConfiguration(this, "encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketVersioning(this, "versioning", { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketLifecycleConfiguration(this, "expiry", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-access-logs",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: props.retentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: 1 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
    const bucketArn = this.bucket.arn;
    this.policy = new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "LoadBalancerWritesLogs",
            Effect: "Allow",
            Principal: elbLogDeliveryPrincipal(props.region),
            Action: "s3:PutObject",
            Resource: `${bucketArn}/AWSLogs/${props.accountId}/*`,
          },
          {
            // AWS Config's s3-bucket-ssl-requests-only: a policy that "explicitly denies access to HTTP
            // requests" with "aws:SecureTransport": "false" (AWS re:Post, s3-bucket-policy-for-config-rule).
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucketArn, `${bucketArn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
      // Both at once can fail with OperationAborted (hashicorp/terraform-provider-aws#7628).
      dependsOn: [publicAccess],
    });
  }
}
