/**
 * The checks of checkov (an independent scanner) that the generated infrastructure does not pass on
 * purpose, each with the reason. Which ones apply depends on the config: a check skipped only because
 * some environment has no certificate, no WAF or no deletion protection is skipped only then. The
 * project's .checkov.yaml is rendered from this list; `npm run security` scans with it.
 */
import type { AppConfig } from "./config";

export interface CheckovSkip {
  readonly id: string;
  readonly reason: string;
}

export const CHECKOV_CONFIG_FILE = ".checkov.yaml";

/** checkov 3.x, pinned like every tool the tests drive (requirements-test.txt). */
export const CHECKOV_VERSION = "3.3.30";

export function checkovSkips(config: AppConfig): CheckovSkip[] {
  const envs = config.environments;
  const skips: CheckovSkip[] = [
    {
      id: "CKV_AWS_338",
      reason:
        "log retention is logRetentionDays (30 days, 90 in production by default): a cost choice; set 365 or more where a policy asks for a year",
    },
    {
      id: "CKV_AWS_260",
      reason:
        "port 80 is open to the internet on the load balancer only: it redirects to HTTPS with a certificate, and serves the plain-HTTP default without one",
    },
    {
      id: "CKV_AWS_378",
      reason:
        "TLS ends at the load balancer; it reaches the instances over HTTP on the app port inside the VPC, which only its security group may reach",
    },
    {
      id: "CKV2_AWS_34",
      reason:
        "plain config values are String parameters by design (the ConfigMap equivalent); secrets are SecureString, encrypted with the environment's key",
    },
    {
      id: "CKV_AWS_18",
      reason:
        "the access-log bucket holds the load balancer's own access logs; logging access to it would need another bucket, and that one another" +
        (config.backend ? "; the state bucket's readers are the CI roles and administrators, whose calls CloudTrail records" : ""),
    },
    {
      id: "CKV_AWS_144",
      reason:
        "access logs expire after logRetentionDays; replicating them to a second region is a compliance choice the project does not make for you" +
        (config.backend ? "; the state bucket is versioned, its old versions kept 90 days" : ""),
    },
    {
      id: "CKV_AWS_145",
      reason:
        "load balancer access logs support SSE-S3 only (ELB User Guide, enable-access-logging.html); the bucket uses SSE-S3" +
        (config.backend ? "; the state bucket uses SSE-S3 too, so that the CI roles read and write their state with no KMS right" : ""),
    },
    {
      id: "CKV_AWS_112",
      reason:
        "break-glass sessions run over Session Manager's HTTPS channel and are logged to the environment's KMS-encrypted log group; a KMS layer on the session data itself (kmsKeyId) would need kms:Decrypt on the environment's key for every instance outside the SSM-only condition that now holds it",
    },
    {
      id: "CKV2_AWS_62",
      reason: `nothing consumes events of the access-log bucket${config.backend ? " or of the state bucket" : ""}`,
    },
  ];
  if (config.network.mode === "new") {
    skips.push({
      id: "CKV2_AWS_12",
      reason:
        "the new VPC's default security group is left as AWS makes it (inbound from its own members, all outbound), and nothing is placed in it; emptying it would give every deploy role rights on untagged security groups account-wide (stacks/network.ts)",
    });
  }
  if (envs.some((e) => !e.certificateArn)) {
    const without = envs
      .filter((e) => !e.certificateArn)
      .map((e) => e.name)
      .join(", ");
    const reason = `${without} has no certificateArn, so its load balancer serves plain HTTP until one is set (the default, for a first deploy without a domain)`;
    skips.push({ id: "CKV_AWS_2", reason }, { id: "CKV_AWS_103", reason }, { id: "CKV2_AWS_20", reason });
  }
  if (envs.some((e) => !e.deletionProtection)) {
    skips.push({
      id: "CKV_AWS_150",
      reason: `deletion protection is off where the config says so (${envs
        .filter((e) => !e.deletionProtection)
        .map((e) => e.name)
        .join(", ")}), so that those environments can be destroyed`,
    });
  }
  if (envs.some((e) => !e.waf)) {
    skips.push({
      id: "CKV2_AWS_28",
      reason: `${envs
        .filter((e) => !e.waf)
        .map((e) => e.name)
        .join(", ")} has no WAF web ACL (waf in the config; WAF is billed per web ACL, rule and request)`,
    });
  }
  if (envs.some((e) => e.waf)) {
    skips.push({
      id: "CKV2_AWS_76",
      reason:
        "besides the Log4j rules (AWSManagedRulesKnownBadInputsRuleSet, which the web ACL has: CKV_AWS_192 passes) the check demands AWSManagedRulesAnonymousIpList, which blocks VPN, Tor and hosting-provider addresses, real users among them",
    });
  }
  return skips;
}

/** The project's .checkov.yaml: one skip per line, its reason beside it. */
export function renderCheckovConfig(config: AppConfig): string {
  const lines = [
    "# checkov's settings for `npm run security` (and the CI gate before any deploy).",
    "# Managed by create-immutable-app from immutable.config.json: `npm run security -- --update` rewrites it.",
    "# Each skip is a check the generated infrastructure fails on purpose; the reason follows it.",
    "compact: true",
    "quiet: true",
    "skip-download: true",
    "skip-check:",
    ...checkovSkips(config).map((s) => `  - ${s.id} # ${s.reason}`),
    "",
  ];
  return lines.join("\n");
}
