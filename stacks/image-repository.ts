import { Construct } from "constructs";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";

export interface ImageRepositoryProps {
  /** The app's name: the repository the bake role may push to (repository/<app>, managed/ci-policies.ts). */
  readonly name: string;
  /**
   * How many of the app's images the repository keeps, newest first; the AMIs hold their own copy, so
   * an older image is needed only to bake it again.
   * @default 50
   */
  readonly keepImages?: number;
}

/**
 * The ECR repository CI pushes the app image to, once per commit (templates/ci.yml.hbs: the check job
 * builds and tests it, the bake pushes those bytes and bakes them by digest): tags immutable, so a
 * commit's tag always names the image that was tested; every push scanned; encrypted with KMS
 * (ECR's AWS managed key); the newest `keepImages` images kept.
 */
export class ImageRepository extends Construct {
  public readonly repository: EcrRepository;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    const keep = props.keepImages ?? 50;
    if (!Number.isInteger(keep) || keep < 1)
      throw new Error(`ImageRepository: keepImages must be a whole number of 1 or more, not ${keep}`);
    this.repository = new EcrRepository(this, "repository", {
      name: props.name,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "KMS" }],
    });
    new EcrLifecyclePolicy(this, "lifecycle", {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `Keep the newest ${keep} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
            action: { type: "expire" },
          },
        ],
      }),
    });
  }
}
