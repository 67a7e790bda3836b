import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { isParameterName } from '../lambda/config/contract.ts';
import { SlackNotifications, type SlackNotificationsProps } from '../lib/slack-notifications.ts';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const SLACK = { workspaceId: 'T0123456789', channelId: 'C0123456789' };
const PARAMETER = '/ngrok-balance-alert/slack-webhook-url';

interface Synth {
  readonly app: App;
  readonly stack: Stack;
  readonly topic: sns.Topic;
  readonly construct: SlackNotifications;
  readonly template: Template;
  readonly checks: AwsSolutionsChecks;
}

function synth(props: Omit<SlackNotificationsProps, 'topic'>): Synth {
  const app = new App();
  const checks = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(checks);
  const stack = new Stack(app, 'Alerts', { env: ENV });
  const topic = new sns.Topic(stack, 'AlertTopic', { enforceSSL: true });
  const construct = new SlackNotifications(stack, 'Slack', { topic, ...props });
  return { app, stack, topic, construct, template: Template.fromStack(stack), checks };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

function resources(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

function onlyLogicalId(template: Template, type: string): string {
  const ids = Object.keys(resources(template, type));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

interface Statement {
  readonly Effect: string;
  readonly Action: unknown;
  readonly Resource: unknown;
  readonly Sid?: string;
}

/** Every Allow statement of every identity policy in the template. */
function allowStatements(template: Template): Statement[] {
  const statements: Statement[] = [];
  for (const policy of Object.values(resources(template, 'AWS::IAM::Policy'))) {
    const doc = policy.Properties?.PolicyDocument as { Statement: Statement[] };
    statements.push(...doc.Statement);
  }
  for (const role of Object.values(resources(template, 'AWS::IAM::Role'))) {
    const inline = (role.Properties?.Policies ?? []) as {
      PolicyDocument: { Statement: Statement[] };
    }[];
    for (const p of inline) statements.push(...p.PolicyDocument.Statement);
  }
  return statements.filter((s) => s.Effect === 'Allow');
}

describe('SlackNotifications with Amazon Q and a webhook', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({ slack: SLACK, webhookParameterName: PARAMETER });
  });

  it('subscribes an Amazon Q Developer Slack channel to the topic, logging errors only', () => {
    const topicRef = { Ref: s.stack.getLogicalId(s.topic.node.defaultChild as sns.CfnTopic) };
    s.template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 1);
    s.template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: SLACK.workspaceId,
      SlackChannelId: SLACK.channelId,
      SnsTopicArns: [topicRef],
      LoggingLevel: 'ERROR',
      ConfigurationName: Match.stringLikeRegexp('^[A-Za-z0-9_-]{1,128}$'),
    });
  });

  it('gives the channel a role with no permissions and a deny-all guardrail', () => {
    const config = Object.values(
      resources(s.template, 'AWS::Chatbot::SlackChannelConfiguration'),
    )[0];
    expect(config?.Properties?.GuardrailPolicies).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSDenyAll']] },
    ]);
    const roleArn = config?.Properties?.IamRoleArn as { 'Fn::GetAtt': [string, string] };
    const roleId = roleArn['Fn::GetAtt'][0];
    const role = resources(s.template, 'AWS::IAM::Role')[roleId];
    expect(role?.Properties?.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'chatbot.amazonaws.com' },
        },
      ],
    });
    expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
    expect(role?.Properties?.Policies).toBeUndefined();
    const attached = Object.values(resources(s.template, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties?.Roles).includes(roleId),
    );
    expect(attached).toEqual([]);
  });

  it('builds the webhook function like the monitor, with the parameter name only', () => {
    const topicRef = { Ref: s.stack.getLogicalId(s.topic.node.defaultChild as sns.CfnTopic) };
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: Match.anyValue(),
      Timeout: 30,
      LoggingConfig: {
        LogFormat: 'JSON',
        LogGroup: { Ref: onlyLogicalId(s.template, 'AWS::Logs::LogGroup') },
      },
      Environment: {
        Variables: { WEBHOOK_PARAMETER_NAME: PARAMETER, SUBSCRIBED_TOPIC_ARN: topicRef },
      },
    });
    const fn = Object.values(resources(s.template, 'AWS::Lambda::Function'))[0];
    const memory = fn?.Properties?.MemorySize as number;
    expect(memory).toBeGreaterThanOrEqual(128);
    expect(memory).toBeLessThanOrEqual(256);
    // The parameter's name and the topic it must hear from, never the URL itself.
    expect(fn?.Properties?.Environment).toEqual({
      Variables: { WEBHOOK_PARAMETER_NAME: PARAMETER, SUBSCRIBED_TOPIC_ARN: topicRef },
    });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    // The URL itself is never part of the template.
    expect(JSON.stringify(s.template.toJSON())).not.toMatch(/hooks\.slack\.com|\/services\//);
  });

  it('grants the webhook role exactly its logs, the one parameter and the failure queue', () => {
    const roleId = s.stack.getLogicalId(
      s.construct.webhookFunction?.role?.node.defaultChild as CfnElement,
    );
    const role = resources(s.template, 'AWS::IAM::Role')[roleId];
    expect(role?.Properties?.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(resources(s.template, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties?.Roles).includes(roleId),
    );
    expect(policies).toHaveLength(1);
    const logGroupId = onlyLogicalId(s.template, 'AWS::Logs::LogGroup');
    const queueId = onlyLogicalId(s.template, 'AWS::SQS::Queue');
    expect(policies[0]?.Properties?.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
        {
          Sid: 'ReadChannelParameters',
          Effect: 'Allow',
          Action: 'ssm:GetParameter',
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':ssm:eu-west-1:123456789012:parameter/ngrok-balance-alert/slack-webhook-url',
              ],
            ],
          },
        },
        {
          Effect: 'Allow',
          Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
          Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        },
      ],
    });
  });

  it('has no wildcard in any permission it grants', () => {
    const statements = allowStatements(s.template);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(JSON.stringify(statement.Action)).not.toContain('*');
      expect(JSON.stringify(statement.Resource)).not.toContain('*');
    }
  });

  it('subscribes the function to the topic', () => {
    const fnId = onlyLogicalId(s.template, 'AWS::Lambda::Function');
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [fnId, 'Arn'] },
      TopicArn: { Ref: s.stack.getLogicalId(s.topic.node.defaultChild as sns.CfnTopic) },
    });
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'sns.amazonaws.com',
      SourceArn: { Ref: s.stack.getLogicalId(s.topic.node.defaultChild as sns.CfnTopic) },
    });
  });

  it('sends failed invocations to an encrypted, TLS-only queue after two retries', () => {
    const queueId = onlyLogicalId(s.template, 'AWS::SQS::Queue');
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    s.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('alarms on the failure queue, notifying the topic on alarm and on recovery', () => {
    const topicRef = { Ref: s.stack.getLogicalId(s.topic.node.defaultChild as sns.CfnTopic) };
    const queueId = onlyLogicalId(s.template, 'AWS::SQS::Queue');
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
      OKActions: [topicRef],
    });
  });

  it('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    const report = s.checks.validateScope(s.app);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('cdk-nag does flag a non-compliant queue (the check is live)', () => {
    const app = new App();
    const checks = new AwsSolutionsChecks(app);
    new sqs.Queue(new Stack(app, 'Control'), 'Plain', {
      encryption: sqs.QueueEncryption.UNENCRYPTED,
    });
    const rules = checks.validateScope(app).violations.map((v) => v.ruleName);
    expect(rules).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
  });
});

describe('SlackNotifications parameter ARN', () => {
  it.each([
    ['/ngrok-balance-alert/slack-webhook-url', 'parameter/ngrok-balance-alert/slack-webhook-url'],
    ['slack-webhook-url', 'parameter/slack-webhook-url'],
  ])('grants ssm:GetParameter on exactly one ARN for %s', (name, expected) => {
    const { template } = synth({ webhookParameterName: name });
    const reads = allowStatements(template).filter((st) =>
      JSON.stringify(st.Action).includes('ssm:'),
    );
    expect(reads).toHaveLength(1);
    expect(reads[0]?.Action).toBe('ssm:GetParameter');
    const arn = JSON.stringify(reads[0]?.Resource);
    expect(arn).toContain(`:ssm:eu-west-1:123456789012:${expected}"`);
    expect(arn).not.toContain('parameter//');
  });

  it('rejects a parameter name that SSM would not accept', () => {
    expect(() => synth({ webhookParameterName: 'https://hooks.slack.com/services/T/B/X' })).toThrow(
      /not an SSM parameter name/,
    );
  });

  it.each([
    ['a hierarchical name without the leading "/"', 'ngrok-balance-alert/slack-webhook-url'],
    ['a name starting with "aws"', '/aws/slack-webhook-url'],
    ['a name starting with "ssm"', 'ssm-slack-webhook-url'],
    ['a double slash', '/ngrok-balance-alert//slack-webhook-url'],
    ['a name that is too long', `/${'a'.repeat(1001)}`],
  ])('rejects %s, as the deploy-time configuration does, naming the prop', (_, name) => {
    expect(isParameterName(name)).toBe(false);
    expect(() => synth({ webhookParameterName: name })).toThrow(
      /^SlackNotifications: webhookParameterName ".*" is not an SSM parameter name\. Expected /,
    );
  });
});

describe('SlackNotifications with one delivery method', () => {
  it('creates only the Amazon Q configuration when no webhook parameter is given', () => {
    const { template, checks, app, construct } = synth({ slack: SLACK });
    template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 1);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('AWS::SQS::Queue', 0);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(construct.webhookFunction).toBeUndefined();
    expect(checks.validateScope(app).violations).toEqual([]);
  });

  it('creates only the webhook function when no Slack channel is given', () => {
    const { template, checks, app, construct } = synth({ webhookParameterName: PARAMETER });
    template.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 0);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    expect(construct.channelConfiguration).toBeUndefined();
    expect(checks.validateScope(app).violations).toEqual([]);
  });

  it('creates nothing when neither is given', () => {
    const { template } = synth({});
    expect(Object.keys(template.toJSON().Resources ?? {}).sort()).toEqual(
      Object.keys(resources(template, 'AWS::SNS::Topic'))
        .concat(Object.keys(resources(template, 'AWS::SNS::TopicPolicy')))
        .sort(),
    );
  });
});
