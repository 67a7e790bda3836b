import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ACCOUNT_CHECKED_MESSAGE } from '../lambda/run/metrics.ts';

/** Failure alarms look back this many schedule periods before returning to OK. */
const FAILURE_ALARM_PERIODS = 3;

/** Periods without a successful run before the "no successful run" alarm fires. */
export const MISSED_RUN_PERIODS = 3;

/** The alarms on the monitor itself; each notifies the topic on ALARM and on OK. */
export interface NgrokBalanceAlertAlarms {
  /** The function failed a run. */
  readonly errors: cloudwatch.Alarm;
  /** No run ended without error for several schedule periods: the monitor is silent. */
  readonly noSuccessfulRun: cloudwatch.Alarm;
}

export interface MonitorAlarmsProps {
  readonly monitor: lambda.IFunction;
  readonly topic: sns.ITopic;
  readonly schedulePeriod: Duration;
}

/**
 * The two alarms that protect the user, both on the function's own AWS/Lambda metrics:
 * those are free, and their FunctionName dimension belongs to this deployment alone, so a
 * second deployment in the same region can never keep this one's dead-man alarm quiet.
 * Three alarm metrics at $0.10: $0.30 a month whatever the number of accounts.
 */
export function addMonitorAlarms(
  scope: Construct,
  props: MonitorAlarmsProps,
): NgrokBalanceAlertAlarms {
  const { monitor, topic, schedulePeriod } = props;
  const notify = new cloudwatchActions.SnsAction(topic);
  const withActions = (alarm: cloudwatch.Alarm) => {
    alarm.addAlarmAction(notify);
    alarm.addOkAction(notify);
    return alarm;
  };
  const errors = monitor.metricErrors({ period: schedulePeriod, statistic: 'Sum' });
  const errorsAlarm = withActions(
    errors.createAlarm(scope, 'MonitorErrors', {
      alarmDescription:
        'The ngrok balance monitor failed a run. Check its log group for the error; the run ' +
        'is retried twice, then kept with its error in the failed-runs queue for 14 days.',
      threshold: 1,
      // Any failure in the last 3 periods: a failure every run stays one alarm, not an
      // ALARM/OK pair per run.
      evaluationPeriods: FAILURE_ALARM_PERIODS,
      datapointsToAlarm: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  );
  // A run that ends without error has checked every account, or recorded why it could not
  // (a failed check counts towards the monitor's own "cannot read the balance" alert and is
  // saved in state). So runs that ended without error are the dead-man signal: none for 3
  // periods means the schedule stopped, the function cannot start, or every run fails.
  const noSuccessfulRun = withActions(
    new cloudwatch.MathExpression({
      expression: 'FILL(invocations, 0) - FILL(errors, 0)',
      usingMetrics: {
        invocations: monitor.metricInvocations({ period: schedulePeriod, statistic: 'Sum' }),
        errors,
      },
      period: schedulePeriod,
      label: 'Runs that ended without error',
    }).createAlarm(scope, 'NoSuccessfulRun', {
      alarmDescription:
        `No ngrok balance check ran to completion for ${MISSED_RUN_PERIODS} schedule periods: ` +
        'the schedule is disabled, the function cannot start, or every run fails. Alerts ' +
        'about the balance may be missing until this is fixed.',
      threshold: 1,
      evaluationPeriods: MISSED_RUN_PERIODS,
      datapointsToAlarm: MISSED_RUN_PERIODS,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // Silence is the failure this alarm exists for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }),
  );
  return { errors: errorsAlarm, noSuccessfulRun };
}

export interface MonitorDashboardProps {
  readonly monitor: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
  readonly runwayAlertDays: number;
}

/**
 * Opt-in ($3 a month beyond an AWS account's first three dashboards). Per-account history
 * comes from Logs Insights over the "account checked" line each run already writes, so it
 * needs no custom metric; queries scan a few MB per view.
 */
export function addMonitorDashboard(scope: Construct, props: MonitorDashboardProps) {
  const perAccount = (title: string, field: string) =>
    new cloudwatch.LogQueryWidget({
      title,
      logGroupNames: [props.logGroup.logGroupName],
      view: cloudwatch.LogQueryVisualizationType.LINE,
      queryLines: [
        `filter message = "${ACCOUNT_CHECKED_MESSAGE}" and ispresent(${field})`,
        `stats min(${field}) as value by bin(1h), account`,
      ],
      width: 12,
      height: 6,
    });
  return new cloudwatch.Dashboard(scope, 'Dashboard', {
    defaultInterval: Duration.days(14),
    widgets: [
      [
        perAccount('Credit balance (USD)', 'balanceDollars'),
        perAccount('Spend per day (USD)', 'dailySpendDollars'),
      ],
      [
        perAccount(`Runway (days; alert below ${props.runwayAlertDays})`, 'runwayDays'),
        new cloudwatch.GraphWidget({
          title: 'Runs and failed runs',
          left: [
            props.monitor.metricInvocations({ statistic: 'Sum', period: Duration.hours(1) }),
            props.monitor.metricErrors({ statistic: 'Sum', period: Duration.hours(1) }),
          ],
          width: 12,
          height: 6,
        }),
      ],
    ],
  });
}
