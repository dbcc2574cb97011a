import { bootEnvFile, logGroupName, parameterPath, serviceUnitName } from "./names";

export interface UserDataProps {
  readonly appName: string;
  readonly environment: string;
  readonly region: string;
  readonly appPort: number;
}

/**
 * The whole boot-time script: it tells the pre-baked image which environment it serves and starts the
 * service. No package installs, no downloads: everything else was baked into the AMI by Packer.
 * Every value is validated (names, region, port), so none needs shell quoting beyond the quoted heredoc.
 */
export function renderUserData(props: UserDataProps): string {
  const { appName, environment, region, appPort } = props;
  const envFile = bootEnvFile(appName);
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    `install -d -m 0755 /etc/${appName}`,
    `cat > ${envFile} <<'BOOT_ENV'`,
    `APP_NAME=${appName}`,
    `APP_ENV=${environment}`,
    `AWS_REGION=${region}`,
    `PARAMETER_PATH=${parameterPath(appName, environment)}`,
    `LOG_GROUP_NAME=${logGroupName(appName, environment)}`,
    `APP_PORT=${appPort}`,
    "BOOT_ENV",
    `systemctl enable --now ${serviceUnitName(appName)}`,
    "",
  ].join("\n");
}
