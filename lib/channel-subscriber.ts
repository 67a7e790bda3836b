import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { isParameterName } from '../lambda/config/contract.ts';
import { parameterArn } from './arns.ts';
import { type BundledFunctionProps, createBundledFunction } from './bundled-function.ts';
import { grantSecretsKey } from './secrets-key.ts';

export interface ChannelSubscriberProps {
  /** The alert topic; every message published to it reaches the channel. */
  readonly topic: sns.ITopic;
  /** The channel's name in messages: "Slack webhook", "PagerDuty". */
  readonly label: string;
  readonly entry: BundledFunctionProps['entry'];
  /** The function's environment: parameter names and settings, never a secret value. */
  readonly environment: Record<string, string>;
  /**
   * The SecureString parameters the function reads, by the prop that named them (for the
   * error message); the role may read exactly these.
   */
  readonly parameters: Readonly<Record<string, string>>;
  /** Who says a parameter name is wrong. @default - the label */
  readonly errorPrefix?: string;
  /**
   * The customer-managed KMS key the parameters are encrypted with, if not aws/ssm.
   *
   * @default - the AWS managed aws/ssm key, which needs no grant
   */
  readonly secretsKmsKeyArn?: string;
}

export interface ChannelSubscriber {
  readonly fn: lambda.Function;
  /** Messages the function could not post after all retries, each with its error. */
  readonly dlq: sqs.Queue;
  readonly alarm: cloudwatch.Alarm;
}

/**
 * One channel's delivery path: a function subscribed to the topic that may read only its
 * own parameters, a failure queue for what it still cannot post after Lambda's two retries,
 * and an alarm on that queue that tells the topic. Construct ids: `id` (the function),
 * `${id}Logs`, `${id}Role`, `${id}Failures` and `${id}FailuresQueued`, in `scope`.
 */
export function addChannelSubscriber(
  scope: Construct,
  id: string,
  props: ChannelSubscriberProps,
): ChannelSubscriber {
  for (const [prop, name] of Object.entries(props.parameters)) {
    // The rule the deploy-time configuration applies, so a construct used on its own
    // accepts exactly the names the app accepts.
    if (!Token.isUnresolved(name) && !isParameterName(name)) {
      throw new Error(
        `${props.errorPrefix ?? props.label}: ${prop} "${name}" is not an SSM parameter name. ` +
          'Expected letters, digits and _ . - /, starting with "/" when it has one and not ' +
          'with "aws" or "ssm", e.g. /ngrok-balance-alert/slack-webhook-url.',
      );
    }
  }
  const { fn, role } = createBundledFunction(scope, id, {
    entry: props.entry,
    description: `Posts the ngrok balance alerts to ${props.label}`,
    roleDescription: `Reads the ${props.label} parameter and writes its own logs`,
    // 256 MB: the function needs well under 128 MB, but Lambda scales CPU with memory and
    // the cold start (loading the bundled SDK) is CPU-bound; at a few invocations a day
    // the difference in cost is nil.
    memorySize: 256,
    // The handler gives the parameter reads and posting 20 s (four attempts of at most 5 s
    // plus backoff) and keeps the rest to report a failure instead of being cut off.
    timeout: Duration.seconds(30),
    // The topic the function's subscription is for: records from any other topic are
    // refused, so a subscription someone adds elsewhere cannot make it post.
    environment: { ...props.environment, SUBSCRIBED_TOPIC_ARN: props.topic.topicArn },
  });
  // With the AWS managed aws/ssm key, whose key policy lets SSM decrypt for any principal of
  // the account, no kms:Decrypt grant is needed; a customer-managed key gets one, via SSM.
  grantSecretsKey(role, props.secretsKmsKeyArn);
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ReadChannelParameters',
      actions: ['ssm:GetParameter'],
      resources: Object.values(props.parameters).map((name) => parameterArn(Stack.of(scope), name)),
    }),
  );

  const dlq = new sqs.Queue(scope, `${id}Failures`, {
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  Validations.of(dlq).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the failure destination of the ${props.label} function; its alarm notifies the topic.`,
  });
  // An on-failure destination rather than the function's dead-letter queue: the record it
  // sends carries the error message (e.g. "HTTP 404") next to the SNS event, so the queue
  // says why each message was not posted; it also catches events that expire in Lambda's
  // async queue.
  fn.configureAsyncInvoke({ retryAttempts: 2, onFailure: new destinations.SqsDestination(dlq) });
  // No subscription dead-letter queue: SNS keeps retrying delivery to Lambda for days, and it
  // could only write to an encrypted queue through a customer-managed KMS key.
  props.topic.addSubscription(new subscriptions.LambdaSubscription(fn));

  const notify = new cloudwatchActions.SnsAction(props.topic);
  const alarm = dlq
    .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
    .createAlarm(scope, `${id}FailuresQueued`, {
      alarmDescription:
        `An alert could not be posted to ${props.label} after all retries. The message and ` +
        "the error are in the failures queue; the function's log group has the details. " +
        'Purge the queue once handled to clear the alarm.',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  alarm.addAlarmAction(notify);
  alarm.addOkAction(notify);
  return { fn, dlq, alarm };
}
