import { LocalBackend, S3Backend, type TerraformStack } from "cdktf";
import type { S3BackendConfig } from "./config";

/**
 * Write-only arguments (the secrets' value_wo) are "supported in HashiCorp Terraform 1.11.0 and later"
 * (provider docs, ssm_parameter); S3 native locking (use_lockfile) needs 1.10.
 */
export const REQUIRED_TERRAFORM_VERSION = ">= 1.11.0";

/** Where the state of stack `<env>` lives: the project root by default, or S3 with native locking. */
export function configureBackend(stack: TerraformStack, environment: string, backend?: S3BackendConfig): void {
  if (!backend) {
    // Relative to the stack's directory (cdktf.out/stacks/<env>): the project root, on any machine.
    // cdktf's default would be an absolute path of the machine that synthesized.
    new LocalBackend(stack, { path: `../../../terraform.${environment}.tfstate` });
    return;
  }
  const s3 = new S3Backend(stack, {
    bucket: backend.bucket,
    key: s3StateKey(backend, environment),
    region: backend.region,
    encrypt: true,
  });
  // S3-native locking (Terraform >= 1.10); cdktf 0.21 has no typed field for it.
  s3.addOverride("use_lockfile", true);
}

export function s3StateKey(backend: S3BackendConfig, environment: string): string {
  return `${backend.keyPrefix}/${environment}.tfstate`;
}
