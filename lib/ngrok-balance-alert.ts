import { Aws, CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  ACCOUNT_SETTINGS,
  FUNCTION_SETTING_KEYS,
  type SettingsProps,
} from '../lambda/config/contract.ts';
import {
  type ResolvedAccount,
  type ResolvedConfig,
  resolveSettings,
} from '../lambda/config/validate.ts';
import { MONITOR_CONFIG_FILE } from '../lambda/monitor-config.ts';
import { accountParameterNames } from '../lambda/parameter-names.ts';
import { INITIAL_STATE_VALUE } from '../lambda/state.ts';
import type { AccountConfig, MonitorConfig } from '../lambda/types.ts';
import { parameterArn } from './arns.ts';
import { createBundledFunction } from './bundled-function.ts';
import {
  addMonitorAlarms,
  addMonitorDashboard,
  type NgrokBalanceAlertAlarms,
} from './monitoring.ts';
import { SlackNotifications } from './slack-notifications.ts';

/**
 * Props of {@link NgrokBalanceAlert}: every setting of the configuration contract
 * (lambda/config/contract.ts, where each prop's TSDoc and `@default` live) under the same
 * name as its CDK context key in the standalone app, plus `topic`. All are optional: `{}`
 * watches one account whose API key is in `/ngrok-balance-alert/api-key`, with a
 * threshold of $10.00.
 */
export interface NgrokBalanceAlertProps extends SettingsProps {
  /**
   * An SNS topic of yours to send the notifications and alarms to (its existing email,
   * Slack or PagerDuty wiring then applies). The construct grants its function exactly
   * `sns:Publish` on it; the topic's own policy must let CloudWatch alarms publish.
   *
   * @default - a new topic, with `emails` subscribed
   */
  readonly topic?: sns.ITopic;
}

/** IAM's default quota of managed policies attached to one role. */
const MANAGED_POLICIES_PER_ROLE = 10;

/** Longest "arn:PARTITION:ssm:REGION:ACCOUNT:parameter/" prefix, with room to spare. */
const SSM_ARN_PREFIX_MAX = 60;
/**
 * Target size of one statement: two fit in one of CDK's overflow managed policies (it
 * fills them to 6,000 characters; IAM's limit is 6,144).
 */
const STATEMENT_TARGET_CHARS = 2_900;

/**
 * Adds exact-ARN statements in chunks. One statement cannot be split, and CDK moves whole
 * statements into overflow managed policies: with 100 accounts, a single statement of 400
 * ARNs would be rejected at deploy. Chunks are sized for the longest ARN once resolved.
 */
function addChunkedStatements(
  role: iam.Role,
  sid: string,
  actions: string[],
  resources: string[],
  arnLength: number,
) {
  const perStatement = Math.max(1, Math.floor(STATEMENT_TARGET_CHARS / (arnLength + 3)));
  for (let start = 0; start < resources.length; start += perStatement) {
    const part = start / perStatement;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: part === 0 ? sid : `${sid}${part + 1}`,
        actions,
        resources: resources.slice(start, start + perStatement),
      }),
    );
  }
}

/**
 * A scheduled Lambda that watches ngrok AI Gateway credit balances and notifies an SNS
 * topic, with the parameters, alarms and dashboard around it. Props are checked here:
 * invalid ones fail synth with a message naming the prop, the value and the form expected.
 */
export class NgrokBalanceAlert extends Construct {
  /** The topic notifications and alarms go to: `props.topic`, or the one created. */
  readonly topic: sns.ITopic;
  /** The scheduled function that checks the balances. */
  readonly monitorFunction: lambda.IFunction;
  /** The alarms on the monitor itself. */
  readonly alarms: NgrokBalanceAlertAlarms;
  private readonly monitor: lambda.Function;

  constructor(scope: Construct, id: string, props: NgrokBalanceAlertProps = {}) {
    super(scope, id);
    const { topic, ...settings } = props;
    const config = resolveSettings(settings, 'props');

    // CDK packs policy statements by an estimate of 150 characters per unresolved ARN;
    // ours are shorter, and the true bound lets 100 accounts fit IAM's policy quotas.
    const longestName = Math.max(
      ...config.accounts.flatMap((a) => [
        a.tokenParameterName.length,
        ...Object.values(accountParameterNames(a.name)).map((n) => n.length),
      ]),
    );
    const arnLength = SSM_ARN_PREFIX_MAX + longestName;
    this.node.setContext('@aws-cdk/aws-iam.arnSizeEstimate', arnLength);

    this.topic = topic ?? this.createTopic();
    this.subscribeEmails(this.topic, config);

    const accounts = config.accounts.map((account) => this.accountParameters(account));
    const monitorConfig: MonitorConfig = {
      ...Object.fromEntries(FUNCTION_SETTING_KEYS.map((key) => [key, config[key]])),
      accounts: accounts.map((a) => a.config),
      deployment: Stack.of(this).stackName,
    } as unknown as MonitorConfig;

    const schedulePeriod = Duration.minutes(config.schedulePeriodMinutes);
    const { fn, role, logGroup } = createBundledFunction(this, 'Monitor', {
      entry: 'handler',
      description: 'Checks ngrok AI Gateway credit balances and publishes alerts',
      roleDescription: 'Reads the ngrok balance monitor parameters and publishes its alerts',
      // 256 MB: the run needs about 75 MB, but Lambda scales CPU with memory and cold
      // start is mostly CPU-bound module loading (see `npm run bench`).
      memorySize: 256,
      // Settings reads get at most 30 s, balance calls at most 20 s (all accounts at once),
      // and writes stop 2 s before the end: 90 s leaves room without hanging for long.
      timeout: Duration.seconds(90),
      reservedConcurrentExecutions: config.reservedConcurrency,
      environment: { TOPIC_ARN: this.topic.topicArn },
      // The account list travels in a file next to the code rather than in an environment
      // variable, which Lambda caps at 4 KB in total: 100 accounts do not fit there.
      files: { [MONITOR_CONFIG_FILE]: JSON.stringify(monitorConfig) },
    });
    this.monitor = fn;
    this.monitorFunction = fn;

    role.node.addValidation({
      // CDK splits large policies into managed policies after construction; IAM allows 10
      // per role unless the quota is raised. Fail synth rather than the deployment.
      validate: () => {
        const overflow = role.node.children.filter((c) => c instanceof iam.ManagedPolicy).length;
        return overflow > MANAGED_POLICIES_PER_ROLE
          ? [
              `The monitor's IAM policy needs ${overflow} managed policies for ` +
                `${config.accounts.length} accounts; IAM allows ${MANAGED_POLICIES_PER_ROLE} per role. ` +
                'Use shorter account and tokenParameterName names, or split the accounts over two stacks.',
            ]
          : [];
      },
    });
    addChunkedStatements(
      role,
      'ReadSettings',
      ['ssm:GetParameters'],
      accounts.flatMap((a) => a.readArns),
      arnLength,
    );
    addChunkedStatements(
      role,
      'SaveAlertState',
      ['ssm:PutParameter'],
      accounts.map((a) => a.stateArn),
      arnLength,
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PublishAlerts',
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );

    const failedRuns = new sqs.Queue(this, 'FailedRuns', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(failedRuns).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the failure destination of the monitor function.',
    });
    // An event older than one schedule period is stale: the next run checks afresh.
    // (Lambda accepts 60 s to 6 h.)
    const maxEventAge = Duration.seconds(
      Math.max(60, Math.min(schedulePeriod.toSeconds(), Duration.hours(6).toSeconds())),
    );
    this.monitor.configureAsyncInvoke({
      // A run that failed to publish is retried (publish comes before save), but never
      // after the next scheduled run has started.
      retryAttempts: 2,
      maxEventAge,
      onFailure: new destinations.SqsDestination(failedRuns),
    });

    new events.Rule(this, 'Schedule', {
      description: 'Runs the ngrok balance check',
      schedule: events.Schedule.expression(config.schedule),
      targets: [
        new targets.LambdaFunction(this.monitor, {
          retryAttempts: 2,
          maxEventAge: maxEventAge,
        }),
      ],
    });

    new SlackNotifications(this, 'Slack', {
      topic: this.topic,
      slack:
        config.slackWorkspaceId !== undefined && config.slackChannelId !== undefined
          ? { workspaceId: config.slackWorkspaceId, channelId: config.slackChannelId }
          : undefined,
      webhookParameterName: config.slackWebhookParameterName,
    });

    this.alarms = addMonitorAlarms(this, {
      monitor: this.monitor,
      topic: this.topic,
      schedulePeriod,
    });
    if (config.dashboard) {
      addMonitorDashboard(this, {
        monitor: this.monitor,
        logGroup,
        runwayAlertDays: config.runwayAlertDays,
      });
    }
    this.addOutputs(accounts);
  }

  private createTopic(): sns.Topic {
    // Not encrypted with a KMS key: CloudWatch alarms cannot publish to a topic encrypted
    // with the AWS-managed key, a customer-managed key would cost more than everything else
    // here, and messages carry balances and labels, never secrets (see README, Security).
    // (cdk-nag 3's AwsSolutions pack has no rule against an unencrypted topic.)
    const topic = new sns.Topic(this, 'AlertTopic', {
      displayName: 'ngrok balance alert',
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one: without this statement, the alarms below
    // (the monitor's safety net) could not publish to the topic.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    return topic;
  }

  /**
   * One subscription per address. Topic-wide addresses hear everything, alarms included;
   * an address listed only under accounts hears just those accounts (a filter policy on the
   * `account` message attribute). SNS refuses a second subscription of the same address.
   */
  private subscribeEmails(topic: sns.ITopic, config: ResolvedConfig) {
    const accountsByEmail = new Map<string, string[]>();
    for (const account of config.accounts) {
      for (const email of account.emails) {
        if (config.emails.includes(email)) continue;
        accountsByEmail.set(email, [...(accountsByEmail.get(email) ?? []), account.name]);
      }
    }
    for (const email of config.emails) {
      new sns.Subscription(this, `Email ${email}`, {
        topic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: email,
      });
    }
    for (const [email, accounts] of accountsByEmail) {
      new sns.Subscription(this, `Email ${email} for accounts`, {
        topic,
        protocol: sns.SubscriptionProtocol.EMAIL,
        endpoint: email,
        filterPolicy: {
          account: sns.SubscriptionFilter.stringFilter({ allowlist: accounts }),
        },
      });
    }
  }

  private accountParameters(account: ResolvedAccount) {
    const names = accountParameterNames(account.name);
    const id = account.name.replace(/[^A-Za-z0-9]/g, '');
    new ssm.StringParameter(this, `Threshold${id}`, {
      parameterName: names.threshold,
      stringValue: String(account.thresholdCents),
      description: `Warning threshold for ngrok account "${account.name}", in cents (digits only)`,
    });
    if (account.criticalThresholdCents !== undefined) {
      new ssm.StringParameter(this, `CriticalThreshold${id}`, {
        parameterName: names.criticalThreshold,
        stringValue: String(account.criticalThresholdCents),
        description: `Critical threshold for ngrok account "${account.name}", in cents (digits only)`,
      });
    }
    new ssm.StringParameter(this, `State${id}`, {
      parameterName: names.state,
      stringValue: INITIAL_STATE_VALUE,
      description: `Alert state of ngrok account "${account.name}", written by the monitor`,
    });
    const hasCritical = account.criticalThresholdCents !== undefined;
    // The account's settings the contract ships to the function, plus where its
    // parameters live.
    const shipped = Object.entries(ACCOUNT_SETTINGS).filter(([, s]) => 'function' in s);
    const config = {
      ...Object.fromEntries(shipped.map(([key]) => [key, account[key as keyof ResolvedAccount]])),
      thresholdParameterName: names.threshold,
      criticalThresholdParameterName: hasCritical ? names.criticalThreshold : undefined,
      stateParameterName: names.state,
    } as AccountConfig;
    const stateArn = parameterArn(Stack.of(this), names.state);
    const readArns = [
      parameterArn(Stack.of(this), account.tokenParameterName),
      parameterArn(Stack.of(this), names.threshold),
      ...(hasCritical ? [parameterArn(Stack.of(this), names.criticalThreshold)] : []),
      stateArn,
    ];
    return { config, readArns, stateArn, names, settings: account };
  }

  private addOutputs(accounts: ReturnType<NgrokBalanceAlert['accountParameters']>[]) {
    new CfnOutput(this, 'TopicArn', {
      value: this.topic.topicArn,
      description: 'SNS topic the alerts are published to',
    });
    for (const account of accounts) {
      const id = account.config.name.replace(/[^A-Za-z0-9]/g, '');
      new CfnOutput(this, `SetThresholdCommand${id}`, {
        description: `Changes the warning threshold of "${account.config.name}" (cents, digits only); takes effect at the next run`,
        value: `aws ssm put-parameter --region ${Aws.REGION} --name ${account.names.threshold} --type String --overwrite --value ${account.settings.thresholdCents}`,
      });
    }
    new CfnOutput(this, 'SendTestAlertCommand', {
      description: 'Sends a notification marked as a test through every channel; touches no state',
      value: `aws lambda invoke --region ${Aws.REGION} --function-name ${this.monitor.functionName} --cli-binary-format raw-in-base64-out --payload '{"test":true}' /dev/stdout`,
    });
    const snoozed = accounts.length === 1 ? (accounts[0]?.config.name ?? '*') : '*';
    new CfnOutput(this, 'SnoozeCommand', {
      description:
        'Snoozes reminders until a time (ISO 8601, at most 14 days ahead; "until": null ends it); "account": "*" snoozes every account',
      value: `aws lambda invoke --region ${Aws.REGION} --function-name ${this.monitor.functionName} --cli-binary-format raw-in-base64-out --payload '{"snooze":{"account":"${snoozed}","until":"2030-01-01T09:00:00Z","note":"why"}}' /dev/stdout`,
    });
  }
}
