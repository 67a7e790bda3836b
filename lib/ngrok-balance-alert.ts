import {
  Annotations,
  Aws,
  CfnOutput,
  CfnResource,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { AccountConfig, MonitorConfig } from '../lambda/common/types.ts';
import {
  ACCOUNT_SETTINGS,
  FUNCTION_SETTING_KEYS,
  MONITOR_TIMEOUT_SECONDS,
  type SettingsProps,
} from '../lambda/config/contract.ts';
import { MONITOR_CONFIG_FILE } from '../lambda/config/monitor-config.ts';
import { accountParameterNames } from '../lambda/config/parameter-names.ts';
import {
  type ResolvedAccount,
  type ResolvedConfig,
  resolveSettings,
} from '../lambda/config/validate.ts';
import type { ChannelName } from '../lambda/notify/channels/channels.ts';
import { monitorFunctionName } from './amazon-q-actions.ts';
import { parameterArn } from './arns.ts';
import { createBundledFunction } from './bundled-function.ts';
import { addChannelSubscriber } from './channel-subscriber.ts';
import {
  addMonitorAlarms,
  addMonitorDashboard,
  type NgrokBalanceAlertAlarms,
} from './monitoring.ts';
import { grantSecretsKey } from './secrets-key.ts';
import { SlackNotifications } from './slack-notifications.ts';

/**
 * The channels that have a subscriber function of their own: the Slack incoming webhook
 * and the on-call channels (PagerDuty, Teams, Discord, the signed webhook).
 */
export type ChannelFunctionName = 'slack' | ChannelName;

/**
 * Props of {@link NgrokBalanceAlert}: every setting of the configuration contract
 * (lambda/config/contract.ts, where each prop's TSDoc and `@default` live) under the same
 * name as its CDK context key in the standalone app, plus `topic`. Each has a default, but
 * someone must hear the alerts: `{ emails: ['oncall@example.com'] }` watches one account
 * whose API key is in `/ngrok-balance-alert/api-key`, with a threshold of $10.00, and a
 * monitor with no `emails`, no Slack setting and no `topic` fails synth.
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

/** CloudFormation's quotas per stack. */
const RESOURCES_PER_STACK = 500;
const OUTPUTS_PER_STACK = 200;

/**
 * The stack's resources and outputs against CloudFormation's quotas, so synth fails with
 * how to split instead of the deployment (or CDK's own check) failing without it.
 */
function stackLimitProblems(stack: Stack, accounts: number): string[] {
  const all = stack.node.findAll();
  // CDK adds its metadata resource at synthesis, after validation.
  const resources = all.filter((c) => c instanceof CfnResource).length + 1;
  const outputs = all.filter((c) => c instanceof CfnOutput).length;
  const split =
    'Split the accounts over two stacks (with the app: a second deployment with its own ' +
    '-c stackName=... and accounts), or give fewer per-account emails.';
  return [
    ...(resources > RESOURCES_PER_STACK
      ? [
          `The stack needs ${resources} resources for ${accounts} accounts; CloudFormation ` +
            `allows ${RESOURCES_PER_STACK} per stack. ${split}`,
        ]
      : []),
    ...(outputs > OUTPUTS_PER_STACK
      ? [
          `The stack needs ${outputs} outputs for ${accounts} accounts; CloudFormation ` +
            `allows ${OUTPUTS_PER_STACK} per stack. ${split}`,
        ]
      : []),
  ];
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
 * Only the monitor's role and this account's CloudWatch alarms may publish to the topic
 * the construct created. The allow statements name them; the deny covers every other
 * principal of the account, whose own IAM policies could otherwise allow `sns:Publish` on
 * it (in one account, an identity policy alone suffices). A request is denied unless it
 * comes from the monitor's role or carries the ARN of one of this account's alarms as its
 * source, which only CloudWatch can set.
 */
function onlyMonitorAndAlarmsPublish(topic: sns.Topic, role: iam.IRole): void {
  const alarms = `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`;
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowTheMonitor',
      principals: [new iam.ArnPrincipal(role.roleArn)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
    }),
  );
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyEveryoneElse',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringNotEquals: { 'aws:PrincipalArn': role.roleArn },
        ArnNotLike: { 'aws:SourceArn': alarms },
      },
    }),
  );
}

/**
 * A scheduled Lambda that watches ngrok AI Gateway credit balances and notifies an SNS
 * topic, with the state table, parameters, alarms and dashboard around it. Props are
 * checked here: invalid ones fail synth with a message naming the prop, the value and the
 * form expected, in the same words as the standalone app's context keys.
 */
export class NgrokBalanceAlert extends Construct {
  /** The topic notifications and alarms go to: `props.topic`, or the one created. */
  readonly topic: sns.ITopic;
  /** The scheduled function that checks the balances. */
  readonly monitorFunction: lambda.IFunction;
  /** The alarms on the monitor itself. */
  readonly alarms: NgrokBalanceAlertAlarms;
  /**
   * The subscriber function of each channel that is configured: the Slack incoming webhook
   * (`slack`), PagerDuty, Teams, Discord and the signed webhook.
   */
  readonly channelFunctions: Partial<Record<ChannelFunctionName, lambda.IFunction>>;
  /**
   * The table that holds every account's state (alert levels, purchase intents, unsent
   * notifications). Retained when the stack is deleted.
   */
  readonly stateTable: dynamodb.ITable;
  private readonly monitor: lambda.Function;

  constructor(scope: Construct, id: string, props: NgrokBalanceAlertProps = {}) {
    super(scope, id);
    const { topic, ...settings } = props;
    const config = resolveSettings(settings, 'props', { topicGiven: topic !== undefined });

    // CDK packs policy statements by an estimate of 150 characters per unresolved ARN;
    // ours are shorter, and the true bound lets 100 accounts fit IAM's policy quotas.
    const longestName = Math.max(
      ...config.accounts.flatMap((a) => {
        const names = accountParameterNames(a.name);
        return [a.tokenParameterName, names.threshold, names.criticalThreshold].map(
          (n) => n.length,
        );
      }),
    );
    const arnLength = SSM_ARN_PREFIX_MAX + longestName;
    this.node.setContext('@aws-cdk/aws-iam.arnSizeEstimate', arnLength);

    const createdTopic = topic === undefined ? this.createTopic() : undefined;
    this.topic = topic ?? (createdTopic as sns.Topic);
    this.subscribeEmails(this.topic, config);
    const stateTable = this.createStateTable();
    this.stateTable = stateTable;

    const accounts = config.accounts.map((account) => this.accountParameters(account));
    const monitorConfig: MonitorConfig = {
      ...Object.fromEntries(FUNCTION_SETTING_KEYS.map((key) => [key, config[key]])),
      accounts: accounts.map((a) => a.config),
      deployment: Stack.of(this).stackName,
    } as unknown as MonitorConfig;

    const schedulePeriod = Duration.minutes(config.schedulePeriodMinutes);
    const monitorName =
      config.slackWorkspaceId !== undefined && config.slackChannelId !== undefined
        ? monitorFunctionName(this)
        : undefined;
    const { fn, role, logGroup } = createBundledFunction(this, 'Monitor', {
      entry: 'handler',
      description: 'Checks ngrok AI Gateway credit balances and publishes alerts',
      roleDescription: 'Reads the ngrok balance monitor parameters and publishes its alerts',
      // 256 MB: the run needs about 75 MB, but Lambda scales CPU with memory and cold
      // start is mostly CPU-bound module loading (see `npm run bench`).
      memorySize: 256,
      timeout: Duration.seconds(MONITOR_TIMEOUT_SECONDS),
      reservedConcurrentExecutions: config.reservedConcurrency,
      // The table's name is not a secret; the key and the thresholds stay in SSM.
      environment: { TOPIC_ARN: this.topic.topicArn, STATE_TABLE_NAME: stateTable.tableName },
      // The account list travels in a file next to the code rather than in an environment
      // variable, which Lambda caps at 4 KB in total: 100 accounts do not fit there.
      files: { [MONITOR_CONFIG_FILE]: JSON.stringify(monitorConfig) },
      // With the Amazon Q channel, its custom actions name the function in commands of at
      // most 100 characters: a short name of our own instead of a generated one.
      ...(monitorName !== undefined && { functionName: monitorName }),
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
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteState',
        // Exactly the item actions the state store uses: a strongly consistent read and a
        // conditional put, one item per account.
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [stateTable.tableArn],
      }),
    );
    grantSecretsKey(role, config.secretsKmsKeyArn);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PublishAlerts',
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );
    if (createdTopic) onlyMonitorAndAlarmsPublish(createdTopic, role);

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

    const slack = new SlackNotifications(this, 'Slack', {
      topic: this.topic,
      slack:
        config.slackWorkspaceId !== undefined && config.slackChannelId !== undefined
          ? { workspaceId: config.slackWorkspaceId, channelId: config.slackChannelId }
          : undefined,
      webhookParameterName: config.slackWebhookParameterName,
      secretsKmsKeyArn: config.secretsKmsKeyArn,
      actions: {
        monitor: this.monitor,
        ...(monitorName !== undefined && { monitorFunctionName: monitorName }),
        accounts: config.accounts.map((a) => ({
          name: a.name,
          ...(a.autoTopUpCents !== undefined && { autoTopUpCents: a.autoTopUpCents }),
        })),
      },
    });

    this.channelFunctions = {
      ...(slack.webhookFunction && { slack: slack.webhookFunction }),
      ...this.addChannels(this.topic, config),
    };

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
    this.node.addValidation({
      validate: () => stackLimitProblems(Stack.of(this), config.accounts.length),
    });
  }

  /**
   * One subscriber per configured channel, each reading only its own parameters. The
   * PagerDuty events URL is not a secret: it travels in the environment.
   */
  private addChannels(topic: sns.ITopic, config: ResolvedConfig) {
    const channels: Record<
      ChannelName,
      { id: string; label: string; parameters: Record<string, string | undefined> }
    > = {
      pagerduty: {
        id: 'PagerDuty',
        label: 'PagerDuty',
        parameters: { pagerDutyRoutingKeyParameterName: config.pagerDutyRoutingKeyParameterName },
      },
      teams: {
        id: 'Teams',
        label: 'Microsoft Teams',
        parameters: { teamsWebhookParameterName: config.teamsWebhookParameterName },
      },
      discord: {
        id: 'Discord',
        label: 'Discord',
        parameters: { discordWebhookParameterName: config.discordWebhookParameterName },
      },
      webhook: {
        id: 'Webhook',
        label: 'the webhook',
        parameters: {
          webhookUrlParameterName: config.webhookUrlParameterName,
          webhookSecretParameterName: config.webhookSecretParameterName,
        },
      },
    };
    const functions: Partial<Record<ChannelName, lambda.IFunction>> = {};
    for (const [channel, spec] of Object.entries(channels) as [
      ChannelName,
      (typeof channels)[ChannelName],
    ][]) {
      const [main, secret] = Object.values(spec.parameters);
      if (main === undefined) continue;
      const parameters = Object.fromEntries(
        Object.entries(spec.parameters).filter(([, name]) => name !== undefined),
      ) as Record<string, string>;
      functions[channel] = addChannelSubscriber(this, spec.id, {
        topic,
        label: spec.label,
        entry: 'channel',
        parameters,
        secretsKmsKeyArn: config.secretsKmsKeyArn,
        environment: {
          CHANNEL: channel,
          PARAMETER_NAME: main,
          ...(secret !== undefined && { SECRET_PARAMETER_NAME: secret }),
          ...(channel === 'pagerduty' && { PAGERDUTY_EVENTS_URL: config.pagerDutyEventsUrl }),
        },
      }).fn;
    }
    return functions;
  }

  /**
   * The state store: one item per account (and one for the digest), keyed by `pk`, each
   * written only on the version read. On-demand, so a quiet deployment pays per request
   * (cents a month, see the README's Costs). Encrypted with DynamoDB's default AWS owned
   * key: no key policy to manage, no KMS cost, and the state holds balances and decisions,
   * never a secret. Point-in-time recovery is on (cdk-nag AwsSolutions-DDB3) and the table
   * is retained when the stack is deleted, so a redeploy never starts from forgotten state
   * by accident (it would repeat alerts, or forget a purchase in flight).
   */
  private createStateTable(): dynamodb.Table {
    return new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.DEFAULT,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
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
    // (the monitor's safety net) could not publish to the topic. The monitor's own role is
    // added once it exists (onlyMonitorAndAlarmsPublish).
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
    const hasCritical = account.criticalThresholdCents !== undefined;
    // The account's settings the contract ships to the function, plus where its
    // parameters live.
    const shipped = Object.entries(ACCOUNT_SETTINGS).filter(([, s]) => 'function' in s);
    const config = {
      ...Object.fromEntries(shipped.map(([key]) => [key, account[key as keyof ResolvedAccount]])),
      thresholdParameterName: names.threshold,
      criticalThresholdParameterName: hasCritical ? names.criticalThreshold : undefined,
      // Not created any more and not readable by the function: the state lives in the
      // table. Still written because the function's configuration check expects the
      // field until the run loop reads the table instead.
    } as AccountConfig;
    const readArns = [
      parameterArn(Stack.of(this), account.tokenParameterName),
      parameterArn(Stack.of(this), names.threshold),
      ...(hasCritical ? [parameterArn(Stack.of(this), names.criticalThreshold)] : []),
    ];
    return { config, readArns, names, settings: account };
  }

  /**
   * One output per command a user needs, each naming the region. Output ids keep only
   * letters and digits (CloudFormation's rule), so "prod-eu" gives
   * `SetThresholdCommandprodeu`; names that differ only in punctuation are refused, and no
   * prefix is the start of another, so ids never collide.
   */
  private addOutputs(accounts: ReturnType<NgrokBalanceAlert['accountParameters']>[]) {
    new CfnOutput(this, 'TopicArn', {
      value: this.topic.topicArn,
      description: 'SNS topic the alerts are published to',
    });
    new CfnOutput(this, 'MonitorFunctionName', {
      value: this.monitor.functionName,
      description: 'The scheduled function that checks the balances',
    });
    new CfnOutput(this, 'StateTableName', {
      value: this.stateTable.tableName,
      description:
        "DynamoDB table of every account's saved state; retained when the stack is deleted",
    });
    const set = (name: string, cents: number) =>
      `aws ssm put-parameter --region ${Aws.REGION} --name ${name} --type String --overwrite --value ${cents}`;
    // 100 accounts with critical thresholds would need 204 outputs: the critical commands
    // give way (with a warning) rather than the deployment failing. The fixed five: the
    // topic, the function, the state table, the test command and the snooze command.
    const fixed = 5;
    const criticals = accounts.filter((a) => a.settings.criticalThresholdCents !== undefined);
    const withCritical = fixed + accounts.length + criticals.length <= OUTPUTS_PER_STACK;
    if (!withCritical) {
      Annotations.of(this).addWarningV2(
        'ngrok-balance-alert:criticalCommands',
        `No SetCriticalThresholdCommand outputs: ${criticals.length} of them would exceed ` +
          `CloudFormation's ${OUTPUTS_PER_STACK} outputs per stack. Change a critical threshold ` +
          'with the SetThresholdCommand of the account, naming critical-threshold-cents ' +
          'instead of threshold-cents.',
      );
    }
    for (const account of accounts) {
      const { name } = account.config;
      const id = name.replace(/[^A-Za-z0-9]/g, '');
      new CfnOutput(this, `SetThresholdCommand${id}`, {
        description: `Changes the warning threshold of "${name}" (cents, digits only); takes effect at the next run`,
        value: set(account.names.threshold, account.settings.thresholdCents),
      });
      const critical = account.settings.criticalThresholdCents;
      if (critical !== undefined && withCritical) {
        new CfnOutput(this, `SetCriticalThresholdCommand${id}`, {
          description: `Changes the critical threshold of "${name}" (cents, digits only, below the warning threshold); takes effect at the next run`,
          value: set(account.names.criticalThreshold, critical),
        });
      }
    }
    new CfnOutput(this, 'SendTestAlertCommand', {
      description: 'Sends a notification marked as a test through every channel; touches no state',
      value: `aws lambda invoke --region ${Aws.REGION} --function-name ${this.monitor.functionName} --cli-binary-format raw-in-base64-out --payload '{"test":true}' /dev/stdout`,
    });
    const snoozed = accounts.length === 1 ? (accounts[0]?.config.name ?? '*') : '*';
    new CfnOutput(this, 'SnoozeCommand', {
      description:
        'Snoozes reminders for a day from when it runs ("for": 90m, 24h or 3d, at most 14d; or "until" an ISO 8601 time; "until": null ends it); "account": "*" snoozes every account',
      value: `aws lambda invoke --region ${Aws.REGION} --function-name ${this.monitor.functionName} --cli-binary-format raw-in-base64-out --payload '{"snooze":{"account":"${snoozed}","for":"24h","note":"why"}}' /dev/stdout`,
    });
  }
}
