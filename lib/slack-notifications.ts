import { Duration, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { isParameterName } from '../lambda/config/contract.ts';
import { parameterArn } from './arns.ts';
import { createBundledFunction } from './bundled-function.ts';

export interface SlackNotificationsProps {
  /** The alert topic; every message published to it reaches Slack. */
  readonly topic: sns.ITopic;
  /**
   * Deliver through Amazon Q Developer in chat applications (formerly AWS Chatbot): a Slack
   * channel configuration subscribed to the topic. The workspace must have been authorised
   * once in the Amazon Q Developer console first (see the README).
   *
   * @default - no Amazon Q Developer channel configuration
   */
  readonly slack?: {
    /** The workspace ID (T...) shown in the Amazon Q Developer console. */
    readonly workspaceId: string;
    /** The channel ID (C... or G...) from the channel's details in Slack. */
    readonly channelId: string;
  };
  /**
   * Deliver through a Slack incoming webhook instead of (or as well as) Amazon Q: the name of
   * a SecureString parameter, created by the user, that holds the webhook URL. A small
   * function subscribed to the topic reads it and posts each message as Block Kit.
   *
   * @default - no webhook function
   */
  readonly webhookParameterName?: string;
}

/**
 * Delivers the alert topic to Slack, by Amazon Q Developer in chat applications, by an
 * incoming webhook, or both (which posts every message twice). With neither prop set it
 * creates nothing.
 */
export class SlackNotifications extends Construct {
  /** The Amazon Q Developer channel configuration, when `slack` is set. */
  readonly channelConfiguration?: chatbot.SlackChannelConfiguration;
  /** The webhook subscriber, when `webhookParameterName` is set. */
  readonly webhookFunction?: lambda.Function;
  /** Messages the webhook function could not post after all retries. */
  readonly deadLetterQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: SlackNotificationsProps) {
    super(scope, id);
    if (props.slack) {
      this.channelConfiguration = this.amazonQ(props.topic, props.slack);
    }
    if (props.webhookParameterName !== undefined) {
      const webhook = this.webhook(props.topic, props.webhookParameterName);
      this.webhookFunction = webhook.fn;
      this.deadLetterQueue = webhook.dlq;
    }
  }

  /**
   * The channel only receives notifications; nobody runs commands from it. So:
   * - its role has no permissions at all. Custom notifications and CloudWatch alarm
   *   messages are delivered without any; only the metric chart that Amazon Q can draw
   *   under an alarm message would need CloudWatch read access, and that is left out;
   * - the guardrail, which caps what any channel member could do through the role or a
   *   user role, is AWS managed AWSDenyAll (`Deny *` on `*`). Without a guardrail Amazon Q
   *   applies AdministratorAccess. Denying everything costs nothing here, as notifications
   *   need no permission.
   */
  private amazonQ(
    topic: sns.ITopic,
    slack: NonNullable<SlackNotificationsProps['slack']>,
  ): chatbot.SlackChannelConfiguration {
    const role = new iam.Role(this, 'AmazonQRole', {
      assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
      description: 'Amazon Q Developer channel role for the ngrok balance alerts: no permissions',
    });
    return new chatbot.SlackChannelConfiguration(this, 'AmazonQ', {
      // Unique per account, since Amazon Q names configurations account-wide.
      slackChannelConfigurationName: Names.uniqueResourceName(this, {
        maxLength: 128,
        separator: '-',
        allowedSpecialCharacters: '-_',
      }),
      slackWorkspaceId: slack.workspaceId,
      slackChannelId: slack.channelId,
      notificationTopics: [topic],
      role,
      guardrailPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AWSDenyAll')],
      // Delivery problems only. No logRetention: it would add a custom-resource function to
      // the stack; the /aws/chatbot/<name> log group in us-east-1 holds errors alone.
      loggingLevel: chatbot.LoggingLevel.ERROR,
      userRoleRequired: false,
    });
  }

  private webhook(topic: sns.ITopic, parameterName: string) {
    // The rule the deploy-time configuration applies, so the construct used on its own
    // accepts exactly the names the app accepts.
    if (!Token.isUnresolved(parameterName) && !isParameterName(parameterName)) {
      throw new Error(
        `SlackNotifications: webhookParameterName "${parameterName}" is not an SSM parameter ` +
          'name. Expected letters, digits and _ . - /, starting with "/" when it has one and ' +
          'not with "aws" or "ssm", e.g. /ngrok-balance-alert/slack-webhook-url.',
      );
    }
    const { fn, role } = createBundledFunction(this, 'Webhook', {
      entry: 'slack-webhook',
      description: 'Posts the ngrok balance alerts to Slack through an incoming webhook',
      roleDescription: 'Reads the Slack webhook URL parameter and writes its own logs',
      // 256 MB: the function needs well under 128 MB, but Lambda scales CPU with memory and
      // the cold start (loading the bundled SDK) is CPU-bound; at a few invocations a day
      // the difference in cost is nil.
      memorySize: 256,
      // The handler gives the parameter read and posting 20 s (four attempts of at most 5 s
      // plus backoff) and keeps the rest to report a failure instead of being cut off.
      timeout: Duration.seconds(30),
      // The name only: the URL is a secret and is read at run time.
      environment: { WEBHOOK_PARAMETER_NAME: parameterName },
    });
    // The parameter is encrypted with the AWS managed aws/ssm key, whose key policy lets
    // SSM decrypt for any principal of the account: no kms:Decrypt grant is needed.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWebhookUrl',
        actions: ['ssm:GetParameter'],
        resources: [parameterArn(Stack.of(this), parameterName)],
      }),
    );

    const dlq = new sqs.Queue(this, 'WebhookFailures', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the failure destination of the Slack webhook function; its ' +
        'alarm notifies the topic.',
    });
    // An on-failure destination rather than the function's dead-letter queue: the record it
    // sends carries the error message (e.g. "HTTP 404 channel_not_found") next to the SNS
    // event, so the queue says why each message was not posted; it also catches events that
    // expire in Lambda's async queue.
    fn.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(dlq),
    });
    // No subscription dead-letter queue: SNS keeps retrying delivery to Lambda for days, and it
    // could only write to an encrypted queue through a customer-managed KMS key.
    topic.addSubscription(new subscriptions.LambdaSubscription(fn));

    const notify = new cloudwatchActions.SnsAction(topic);
    const alarm = dlq
      .metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      })
      .createAlarm(this, 'WebhookFailuresQueued', {
        alarmDescription:
          'An alert could not be posted to Slack through the webhook after all retries. The ' +
          "message and the error are in the webhook failures queue; the function's log group " +
          'has the details. Purge the queue once handled to clear the alarm.',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    alarm.addAlarmAction(notify);
    alarm.addOkAction(notify);

    return { fn, dlq, alarm };
  }
}
