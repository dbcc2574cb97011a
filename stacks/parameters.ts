import { Construct } from "constructs";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { escapeTfString } from "../managed/escape";
import { configParameterName, parameterPath, secretParameterName } from "../managed/names";

export interface ParametersProps {
  readonly appName: string;
  readonly environment: string;
  /** Plain values (the ConfigMap equivalent), already merged with the environment's overrides. */
  readonly config: Readonly<Record<string, string>>;
  /** Secret names (the Secret equivalent); their values never pass through this code. */
  readonly secrets: readonly string[];
  /** ARN of the KMS key that encrypts the secrets. */
  readonly keyArn: string;
}

/** What a secret parameter holds until someone sets the real value out of band. */
export const SECRET_PLACEHOLDER = "SET-OUT-OF-BAND";

/** What a secret parameter keeps from its creation on (see Parameters). */
export const SECRET_FIXED_ATTRIBUTES = ["description", "key_id", "tier", "allowed_pattern", "data_type"] as const;

/**
 * The environment's configuration in SSM Parameter Store: plain values as String parameters, secrets as
 * SecureString parameters encrypted with the environment's own key.
 *
 * A secret is written once, with a placeholder, through the write-only argument `value_wo`: the
 * provider docs say write-only values "are never stored to state", and on every refresh the provider's
 * read sets `value` to null when value_wo is in use (resourceParameterRead in
 * internal/service/ssm/parameter.go), so the real value, set out of band, never reaches the state.
 * `value_wo_version` stays 1: Terraform writes the placeholder again only if that number changes.
 * (Terraform's principal still needs kms:Decrypt on the key: the provider reads with decryption and
 * discards the result; hashicorp/terraform-provider-aws#42849.)
 *
 * Nothing else of a secret parameter is ever updated in place: the provider's update
 * (resourceParameterUpdate, same file) calls PutParameter for any change but tags and sends
 * `Value: d.Get("value")`, which is empty for a value_wo parameter unless value_wo_version changed
 * too, so a changed description, key or tier would fail the apply (or, with a new version, put the
 * placeholder over the real value). `ignore_changes` keeps those attributes as they were created; to
 * change one, replace the parameter (`terraform apply -replace=...`) and set its value again.
 */
export class Parameters extends Construct {
  public readonly configParameters: SsmParameter[];
  public readonly secretParameters: SsmParameter[];
  /** `/<app>/<env>/`, the path the instances read at boot. */
  public readonly path: string;

  constructor(scope: Construct, id: string, props: ParametersProps) {
    super(scope, id);
    const { appName, environment } = props;
    this.path = parameterPath(appName, environment);

    this.configParameters = Object.keys(props.config)
      .sort()
      .map(
        (key) =>
          new SsmParameter(this, `config-${key}`, {
            name: configParameterName(appName, environment, key),
            description: `Config value ${key} of ${appName} ${environment}`,
            type: "String",
            tier: "Standard",
            value: escapeTfString(props.config[key]),
          }),
      );

    this.secretParameters = [...props.secrets].sort().map(
      (name) =>
        new SsmParameter(this, `secret-${name}`, {
          name: secretParameterName(appName, environment, name),
          description: `Secret ${name} of ${appName} ${environment}; set its value out of band`,
          type: "SecureString",
          tier: "Standard",
          keyId: props.keyArn,
          valueWo: SECRET_PLACEHOLDER,
          valueWoVersion: 1,
          lifecycle: { ignoreChanges: [...SECRET_FIXED_ATTRIBUTES] },
        }),
    );
  }
}
