import type { AppConfig } from "./config";
import type { PackerVars } from "./hcl";

/** The file that carries the configuration to the Packer templates in packer/. */
export function pkrvarsFile(config: AppConfig): string {
  return `packer/${config.appName}.auto.pkrvars.hcl`;
}

/**
 * The Packer variables of a project, all derived from its configuration: immutable.config.json is the
 * one place to change the port, the health path, the image or the region; `npm run image:build`
 * rewrites the pkrvars file from it before every bake.
 */
export function packerVarsOf(config: AppConfig, appVersion: string): PackerVars {
  return {
    app_name: config.appName,
    app_version: appVersion,
    aws_region: config.region,
    instance_type: config.image.buildInstanceType,
    base_os: config.image.baseOs,
    architecture: config.image.architecture,
    container_image: config.image.containerImage,
    app_port: config.appPort,
    health_check_path: config.healthCheckPath,
    ami_ssm_parameter: config.image.amiParameter,
    ...(config.image.buildSubnetId ? { subnet_id: config.image.buildSubnetId } : {}),
    tags: config.tags,
  };
}
