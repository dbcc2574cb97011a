import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SsmDocument } from "@cdktf/provider-aws/lib/ssm-document";

export interface SessionLoggingProps {
  /** `<app>-<env>`: the session document is `<app>-<env>-session`. */
  readonly namePrefix: string;
  /** `/<app>/<env>/sessions`: under the environment's path, which its boundary lets its roles write. */
  readonly logGroupName: string;
  readonly logRetentionDays: number;
  /** The environment's key: the log group is encrypted, as cloudWatchEncryptionEnabled requires. */
  readonly keyArn: string;
  readonly keyPolicy: ITerraformDependable;
  /** The instance role's id: the agent writes the session's output with the instance's credentials. */
  readonly instanceRoleId: string;
  /**
   * How long a session may sit idle before Session Manager ends it, in minutes (1 to 60).
   * @default 20
   */
  readonly idleTimeoutMinutes?: number;
}

/**
 * Break-glass shells on the environment's instances, recorded: a Session Manager preferences document
 * of the environment (`aws ssm start-session --target <instance> --document-name <app>-<env>-session`)
 * that streams every session's input and output to the environment's encrypted log group.
 *
 * Systems Manager User Guide, getting-started-create-preferences-cli.html: "Documents used to set
 * Session Manager preferences must have a sessionType of Standard_Stream"; session-manager-schema.html,
 * the inputs, read in the page's Korean edition for the three used here: cloudWatchLogGroupName, the
 * group session logs go to; cloudWatchEncryptionEnabled, when true the group must be encrypted;
 * cloudWatchStreamingEnabled, when true a continuous stream of the session's data is sent (not only at
 * its end). The first page again: documents can "define general preferences for all sessions for an
 * AWS account and AWS Region, or that define preferences for individual sessions": the
 * account's own (SSM-SessionManagerRunShell) is shared by every team of the account and region, so this
 * stack leaves it alone and names its own. What AWS cannot enforce from here: a person allowed
 * ssm:StartSession with the default document is not logged by this one; grant people StartSession only
 * on this document (README, "Break-glass").
 */
export class SessionLogging extends Construct {
  public readonly document: SsmDocument;
  public readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: SessionLoggingProps) {
    super(scope, id);
    const idle = props.idleTimeoutMinutes ?? 20;
    if (!Number.isInteger(idle) || idle < 1 || idle > 60) {
      throw new Error(`SessionLogging: idleTimeoutMinutes must be a whole number of minutes from 1 to 60, not ${idle}`);
    }
    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: props.logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.keyArn,
      dependsOn: [props.keyPolicy],
    });
    this.document = new SsmDocument(this, "document", {
      name: `${props.namePrefix}-session`,
      documentType: "Session",
      documentFormat: "JSON",
      content: JSON.stringify({
        schemaVersion: "1.0",
        description: `Break-glass shell on ${props.namePrefix}'s instances, logged to ${props.logGroupName}`,
        sessionType: "Standard_Stream",
        inputs: {
          s3BucketName: "",
          s3KeyPrefix: "",
          s3EncryptionEnabled: true,
          cloudWatchLogGroupName: props.logGroupName,
          cloudWatchEncryptionEnabled: true,
          cloudWatchStreamingEnabled: true,
          kmsKeyId: "",
          runAsEnabled: false,
          runAsDefaultUser: "",
          idleSessionTimeout: String(idle),
          shellProfile: { windows: "", linux: "" },
        },
      }),
    });
    // The agent sends the session's output with the instance's credentials. The calls are the ones
    // community modules grant for this (the User Guide page that lists them was not found here);
    // DescribeLogGroups takes no narrower resource and is in the environment's boundary already.
    new IamRolePolicy(this, "agent-logs", {
      name: "session-logs",
      role: props.instanceRoleId,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "SessionLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [this.logGroup.arn, `${this.logGroup.arn}:*`],
          },
          { Sid: "FindSessionLogGroupAnywhere", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
        ],
      }),
    });
  }
}
