import { Construct } from "constructs";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";

export interface RolloutAlarmsProps {
  /** From rolloutAlarmNames (managed/names.ts). */
  readonly names: { readonly errors: string; readonly unhealthy: string };
  /** `aws_lb.arn_suffix` and `aws_lb_target_group.arn_suffix`: the metrics' dimensions. */
  readonly loadBalancerArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  /** More than this many target 5xx responses a minute, two minutes in a row, is ALARM. */
  readonly max5xxPerMinute: number;
  /** Any unhealthy target this many minutes in a row is ALARM. */
  readonly unhealthyMinutes: number;
}

/**
 * The alarms an instance refresh watches (its AlarmSpecification): if one goes to ALARM the refresh
 * fails and, with AutoRollback, AWS puts the previous instances back (User Guide,
 * instance-refresh-rollback.html). Metrics of the target group (ELB User Guide,
 * load-balancer-cloudwatch-metrics.html): HTTPCode_Target_5XX_Count ("The most useful statistic is
 * Sum") and UnHealthyHostCount ("We recommend you monitor for non-zero UnHealthyHostCount in the
 * Minimum statistic, and alarm on non-zero value for more than one data point"); both need the
 * TargetGroup and LoadBalancer dimensions. A period without requests has no 5xx data point, so missing
 * data is "not breaching": an alarm in INSUFFICIENT_DATA would also keep a refresh from starting.
 */
export class RolloutAlarms extends Construct {
  public readonly errors: CloudwatchMetricAlarm;
  public readonly unhealthy: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: RolloutAlarmsProps) {
    super(scope, id);
    const dimensions = { LoadBalancer: props.loadBalancerArnSuffix, TargetGroup: props.targetGroupArnSuffix };
    this.errors = new CloudwatchMetricAlarm(this, "errors", {
      alarmName: props.names.errors,
      alarmDescription: `Rollout guard: more than ${props.max5xxPerMinute} HTTP 5xx responses from the instances a minute, two minutes in a row`,
      namespace: "AWS/ApplicationELB",
      metricName: "HTTPCode_Target_5XX_Count",
      dimensions,
      statistic: "Sum",
      period: 60,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      threshold: props.max5xxPerMinute,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    });
    this.unhealthy = new CloudwatchMetricAlarm(this, "unhealthy", {
      alarmName: props.names.unhealthy,
      alarmDescription: `Rollout guard: an unhealthy instance behind the load balancer for ${props.unhealthyMinutes} minutes in a row`,
      namespace: "AWS/ApplicationELB",
      metricName: "UnHealthyHostCount",
      dimensions,
      statistic: "Minimum",
      period: 60,
      evaluationPeriods: props.unhealthyMinutes,
      datapointsToAlarm: props.unhealthyMinutes,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    });
  }
}
