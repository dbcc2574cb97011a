import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { escapeTfString } from "../managed/escape";
import { configParameterName, kmsAliasName, parameterPath, secretParameterName } from "../managed/names";

export interface ParametersProps {
  readonly appName: string;
  readonly environment: string;
  /** Plain values (the ConfigMap equivalent), already merged with the environment's overrides. */
  readonly config: Readonly<Record<string, string>>;
  /** Secret names (the Secret equivalent); their values never pass through this code. */
  readonly secrets: readonly string[];
}

/** What a secret parameter holds until someone sets the real value out of band. */
export const SECRET_PLACEHOLDER = "SET-OUT-OF-BAND";

/**
 * The environment's configuration in SSM Parameter Store: plain values as String parameters, secrets as
 * SecureString parameters encrypted with a key of their own. Terraform creates the secret parameters
 * with a placeholder and then ignores their value, so real values never enter code or state diffs.
 */
export class Parameters extends Construct {
  public readonly key: KmsKey;
  public readonly alias: KmsAlias;
  public readonly configParameters: SsmParameter[];
  public readonly secretParameters: SsmParameter[];
  /** `/<app>/<env>/`, the path the instances read at boot. */
  public readonly path: string;

  constructor(scope: Construct, id: string, props: ParametersProps) {
    super(scope, id);
    const { appName, environment } = props;
    this.path = parameterPath(appName, environment);
    this.key = new KmsKey(this, "key", {
      description: `Encrypts the secrets under ${this.path}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
    });
    this.alias = new KmsAlias(this, "alias", { name: kmsAliasName(appName, environment), targetKeyId: this.key.keyId });

    this.configParameters = Object.keys(props.config).sort().map((key) =>
      new SsmParameter(this, `config-${key}`, {
        name: configParameterName(appName, environment, key),
        description: `Config value ${key} of ${appName} ${environment}`,
        type: "String",
        tier: "Standard",
        value: escapeTfString(props.config[key]),
      }));

    this.secretParameters = [...props.secrets].sort().map((name) =>
      new SsmParameter(this, `secret-${name}`, {
        name: secretParameterName(appName, environment, name),
        description: `Secret ${name} of ${appName} ${environment}; set its value out of band`,
        type: "SecureString",
        tier: "Standard",
        keyId: this.key.arn,
        value: SECRET_PLACEHOLDER,
        lifecycle: { ignoreChanges: ["value"] },
      }));
  }
}
