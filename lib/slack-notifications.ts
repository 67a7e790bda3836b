import { Annotations, Names } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AmazonQActions, type AmazonQActionsProps } from './amazon-q-actions.ts';
import { addChannelSubscriber } from './channel-subscriber.ts';

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
  /**
   * The customer-managed KMS key the webhook parameter is encrypted with, if not aws/ssm.
   *
   * @default - the AWS managed aws/ssm key, which needs no grant
   */
  readonly secretsKmsKeyArn?: string;
  /**
   * With `slack`: custom actions in the channel ("Snooze 1 day", "Check now", "Buy $X now"
   * where auto top-up is configured) that invoke the monitor function (amazon-q-actions.ts).
   * The channel's role and guardrail then allow invoking that function and nothing else.
   *
   * @default - no actions: the channel's role has no permissions, its guardrail denies all
   */
  readonly actions?: AmazonQActionsProps;
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
  /** The custom actions, when `slack` and `actions` are set. */
  readonly actions?: AmazonQActions;

  constructor(scope: Construct, id: string, props: SlackNotificationsProps) {
    super(scope, id);
    if (props.slack && props.webhookParameterName !== undefined) {
      Annotations.of(this).addWarningV2(
        'ngrok-balance-alert:slackTwice',
        'Both Slack options are set (Amazon Q Developer and the incoming webhook): every ' +
          'message will be posted to Slack twice. Keep one, unless they post to different ' +
          'channels on purpose.',
      );
    }
    if (props.slack) {
      const amazonQ = this.amazonQ(props.topic, props.slack, props.actions);
      this.channelConfiguration = amazonQ.channel;
      this.actions = amazonQ.actions;
    }
    if (props.webhookParameterName !== undefined) {
      const webhook = this.webhook(props.topic, props.webhookParameterName, props.secretsKmsKeyArn);
      this.webhookFunction = webhook.fn;
      this.deadLetterQueue = webhook.dlq;
    }
  }

  /**
   * Without `actions`, the channel only receives notifications; nobody runs commands from it.
   * (With them, the role and the guardrail allow invoking the monitor function and nothing
   * else: see amazon-q-actions.ts.) So:
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
    actions: AmazonQActionsProps | undefined,
  ): { channel: chatbot.SlackChannelConfiguration; actions?: AmazonQActions } {
    const role = new iam.Role(this, 'AmazonQRole', {
      assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
      description: actions
        ? 'Amazon Q Developer channel role for the ngrok balance alerts: invoke the monitor only'
        : 'Amazon Q Developer channel role for the ngrok balance alerts: no permissions',
    });
    // With actions, the role and the guardrail allow invoking the monitor and nothing else.
    const custom = actions && new AmazonQActions(this, 'Actions', { ...actions, role });
    const channel = new chatbot.SlackChannelConfiguration(this, 'AmazonQ', {
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
      guardrailPolicies: [
        custom?.guardrail ?? iam.ManagedPolicy.fromAwsManagedPolicyName('AWSDenyAll'),
      ],
      // Delivery problems only. No logRetention: it would add a custom-resource function to
      // the stack; the /aws/chatbot/<name> log group in us-east-1 holds errors alone.
      loggingLevel: chatbot.LoggingLevel.ERROR,
      userRoleRequired: false,
    });
    if (custom) {
      // The L2 construct has no prop for it: link the actions to this channel on the L1.
      (
        channel.node.defaultChild as chatbot.CfnSlackChannelConfiguration
      ).customizationResourceArns = custom.arns;
    }
    return { channel, ...(custom && { actions: custom }) };
  }

  private webhook(topic: sns.ITopic, parameterName: string, secretsKmsKeyArn?: string) {
    // The same delivery path as every other channel: function, failures queue, alarm and
    // subscription; the Slack function has an entry of its own (it renders Block Kit).
    return addChannelSubscriber(this, 'Webhook', {
      topic,
      label: 'Slack',
      entry: 'slack-webhook',
      parameters: { webhookParameterName: parameterName },
      // The name only: the URL is a secret and is read at run time.
      environment: { WEBHOOK_PARAMETER_NAME: parameterName },
      errorPrefix: 'SlackNotifications',
      secretsKmsKeyArn,
    });
  }
}
