/**
 * The NgrokBalanceAlert construct on its own, as a consumer's app uses it: in a plain Stack,
 * without the standalone app's context parser.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, NgrokBalanceAlert, type NgrokBalanceAlertProps } from '../lib/index.ts';

function inStack(props: NgrokBalanceAlertProps) {
  const app = new App();
  const stack = new Stack(app, 'Consumer');
  const alert = new NgrokBalanceAlert(stack, 'NgrokCredits', props);
  return { app, stack, alert };
}

/** The ConfigError message that `props` cause. */
function errorOf(props: Record<string, unknown>): string {
  try {
    inStack(props as NgrokBalanceAlertProps);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(props)}`);
}

describe('prop validation', () => {
  it.each([
    [{ thresholdCents: -5 }, ['"thresholdCents"', '-5', 'whole number of cents']],
    [{ thresholdCents: 10.5 }, ['"thresholdCents"', '10.5', 'whole number of cents']],
    // A JavaScript caller's string is not silently taken for a number, and the message says
    // what it is.
    [
      { thresholdCents: '2000' },
      [`"thresholdCents": expected a number, got the string '2000'`, 'whole number of cents'],
    ],
    [{ dashboard: 'true' }, [`"dashboard": expected true or false, got the string 'true'`]],
    [{ forecastDays: 31 }, ['"forecastDays"', '31', 'from 1 to 30']],
    [{ renotifyHours: 0 }, ['"renotifyHours"', '0', 'from 1 to 720']],
    [{ emails: ['not-an-email'] }, ['"emails"', '"not-an-email"', 'a list of addresses']],
    [
      { tokenParameterName: 'aws/key' },
      ['"tokenParameterName"', '"aws/key"', 'SSM parameter name'],
    ],
    [{ schedule: 'cron(0 * * * ? *)' }, ['"schedule"', 'cron expressions are not supported']],
    [{ slackWorkspaceId: 'T0123456789' }, ['"slackChannelId"', 'together']],
    [
      { thresholdcents: 2000 },
      [
        '"thresholdcents" is not a known setting, so it would be ignored. Did you mean "thresholdCents"?',
      ],
    ],
    [
      { treshholdCents: 2000 },
      [
        '"treshholdCents" is not a known setting, so it would be ignored. Did you mean "thresholdCents"?',
      ],
    ],
    [{ renotifyHour: 1 }, ['Did you mean "renotifyHours"?']],
    [
      { thresholdCents: 1000, criticalThresholdCents: 1000 },
      ['"criticalThresholdCents"', 'lower than the warning threshold'],
    ],
  ])('rejects %j, naming the prop, the value and the expected form', (props, parts) => {
    const message = errorOf(props);
    expect(message).toMatch(/^Invalid configuration:\n {2}- /);
    for (const part of parts) expect(message).toContain(part);
  });

  it('checks every account and names each by its index', () => {
    const message = errorOf({
      accounts: [
        { name: 'prod', tokenParameterName: '/ngrok/prod', thresholdCents: 1000 },
        { name: 'PROD', tokenParameterName: '/ngrok/prod2', thresholdCents: -1 },
      ],
    });
    expect(message).toContain('"accounts[1].thresholdCents"');
    expect(message).toContain('-1');
  });

  it('takes the same checks as context: an account without thresholdCents gets the default', () => {
    const { alert } = inStack({
      emails: ['a@example.com'],
      accounts: [
        { name: 'prod', tokenParameterName: '/ngrok/prod' },
        { name: 'dev', tokenParameterName: '/ngrok/dev', thresholdCents: 300 },
      ],
    });
    const parameters = Object.values(
      Template.fromStack(Stack.of(alert)).findResources('AWS::SSM::Parameter'),
    ).map((r) => [r.Properties.Name, r.Properties.Value]);
    expect(parameters).toEqual([
      ['/ngrok-balance-alert/prod/threshold-cents', '1000'],
      ['/ngrok-balance-alert/dev/threshold-cents', '300'],
    ]);
  });

  it('reports accounts and the single-account props given together', () => {
    const message = errorOf({
      thresholdCents: 500,
      accounts: [{ name: 'prod', tokenParameterName: '/ngrok/prod', thresholdCents: 1000 }],
    });
    expect(message).toContain('one or the other');
  });
});

describe('with its own topic', () => {
  let alert: NgrokBalanceAlert;
  let template: Template;
  let app: App;
  beforeAll(() => {
    ({ alert, app } = inStack({ emails: ['oncall@example.com'], thresholdCents: 2000 }));
    template = Template.fromStack(Stack.of(alert));
  });

  it('creates one topic with the emails subscribed and exposes it', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    expect(alert.topic).toBeInstanceOf(sns.Topic);
  });

  it('exposes the function and the two alarms, each notifying the topic', () => {
    expect(alert.monitorFunction.functionArn).toBeDefined();
    const alarms = [alert.alarms.errors, alert.alarms.noSuccessfulRun];
    expect(new Set(alarms.map((a) => a.node.id)).size).toBe(2);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    const topicId = Stack.of(alert).getLogicalId(alert.topic.node.defaultChild as sns.CfnTopic);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
  });

  it("passes cdk-nag's AwsSolutions checks in a consumer's app", () => {
    expect(new AwsSolutionsChecks(app).validateScope(app).violations).toEqual([]);
  });
});

describe('with a topic given', () => {
  it("leaves the given topic's policy alone (its other publishers are the owner's business)", () => {
    const app = new App();
    const stack = new Stack(app, 'Consumer');
    const topic = new sns.Topic(stack, 'Team', { enforceSSL: true });
    new NgrokBalanceAlert(stack, 'NgrokCredits', { topic });
    const policies = Template.fromStack(stack).findResources('AWS::SNS::TopicPolicy');
    const sids = Object.values(policies).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Sid?: string }[]).map((st) => st.Sid),
    );
    expect(sids).toEqual(['AllowPublishThroughSSLOnly']);
  });

  it('creates no topic and grants the function exactly sns:Publish on the given one', () => {
    const app = new App();
    const stack = new Stack(app, 'Consumer');
    const topic = new sns.Topic(stack, 'Team', { enforceSSL: true });
    const alert = new NgrokBalanceAlert(stack, 'NgrokCredits', { topic });
    const template = Template.fromStack(stack);

    expect(alert.topic).toBe(topic);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
    const publish = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]).filter(
        (s) => [s.Action].flat().some((a) => String(a).startsWith('sns:')),
      ),
    );
    expect(publish).toEqual([
      expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topicId } }),
    ]);
    expect(new AwsSolutionsChecks(app).validateScope(app).violations).toEqual([]);
  });
});

describe('recipients', () => {
  it('refuses props that notify nobody, saying how to add an address or pass a topic', () => {
    const message = errorOf({ thresholdCents: 2000 });
    expect(message).toContain('No recipient: the monitor would alert nobody');
    expect(message).toContain("emails: ['oncall@example.com']");
    expect(message).toContain('an existing SNS topic as "topic"');
  });

  it('refuses an empty string prop instead of using the default', () => {
    expect(errorOf({ emails: ['a@example.com'], tokenParameterName: '' })).toContain(
      '"tokenParameterName" is empty. Expected a value, or leave the prop out for its default.',
    );
  });
});

describe("CloudFormation's per-stack limits", () => {
  const many = (count: number, extra: object) =>
    Array.from({ length: count }, (_, i) => ({
      name: `acct${i}`,
      tokenParameterName: `/k/${i}`,
      thresholdCents: 1000,
      ...extra,
    }));

  it('fails synth with one line per limit saying how to split, not CDK internals', () => {
    const { app } = inStack({
      emails: ['oncall@example.com'],
      // Two addresses of its own per account: one subscription each.
      accounts: many(100, { criticalThresholdCents: 100 }).map((a, i) => ({
        ...a,
        emails: [`x${i}@example.com`, `y${i}@example.com`, `z${i}@example.com`],
      })),
    });
    let message = '';
    try {
      app.synth();
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split('\n').slice(1);
    expect(lines).toEqual([
      expect.stringMatching(
        /^ {2}\[Consumer\/NgrokCredits\] The stack needs 5\d\d resources for 100 accounts; CloudFormation allows 500 per stack\. Split the accounts over two stacks/,
      ),
    ]);
  });

  it('synthesizes 100 accounts with their own emails but no critical thresholds', () => {
    const { app } = inStack({
      emails: ['oncall@example.com'],
      accounts: many(100, {}).map((a, i) => ({ ...a, emails: [`x${i}@example.com`] })),
    });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('outputs', () => {
  it('gives one command per threshold, each naming the region, with ids from the letters and digits of the name', () => {
    const { stack } = inStack({
      emails: ['oncall@example.com'],
      accounts: [
        {
          name: 'prod-eu',
          tokenParameterName: '/k/eu',
          thresholdCents: 2000,
          criticalThresholdCents: 500,
        },
        { name: 'staging', tokenParameterName: '/k/st', thresholdCents: 300 },
      ],
    });
    const outputs = Template.fromStack(stack).toJSON().Outputs as Record<
      string,
      { Value: unknown; Description: string }
    >;
    const ids = Object.keys(outputs).map((id) =>
      id.replace(/^NgrokCredits/, '').replace(/[0-9A-F]{8}$/, ''),
    );
    expect(ids.sort()).toEqual(
      [
        'MonitorFunctionName',
        'SendTestAlertCommand',
        'SetCriticalThresholdCommandprodeu',
        'SetThresholdCommandprodeu',
        'SetThresholdCommandstaging',
        'SnoozeCommand',
        'StateTableName',
        'TopicArn',
      ].sort(),
    );
    const commands = Object.entries(outputs).filter(([id]) => id.includes('Command'));
    for (const [id, output] of commands) {
      expect(JSON.stringify(output.Value), id).toContain('--region');
    }
    const critical = Object.entries(outputs).find(([id]) => id.includes('Critical'))?.[1];
    expect(critical?.Description).toContain('critical threshold of "prod-eu"');
    expect(JSON.stringify(critical?.Value)).toContain(
      '--name /ngrok-balance-alert/prod-eu/critical-threshold-cents --type String --overwrite --value 500',
    );
  });
});

describe('secretsKmsKeyArn', () => {
  const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('lets every function that reads a SecureString decrypt with the key, through SSM only', () => {
    const { app, stack } = inStack({
      emails: ['a@example.com'],
      secretsKmsKeyArn: KEY,
      slackWebhookParameterName: '/team/slack-url',
      pagerDutyRoutingKeyParameterName: '/team/pd-key',
    });
    const template = Template.fromStack(stack).toJSON() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const kms = Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .flatMap(([, r]) =>
        (
          r.Properties.PolicyDocument as { Statement: { Action: unknown; Condition?: unknown }[] }
        ).Statement.filter((st) => JSON.stringify(st.Action).includes('kms:')).map((st) => ({
          roles: r.Properties.Roles,
          statement: st,
        })),
      );
    // The monitor, the Slack webhook function and the PagerDuty function.
    expect(kms).toHaveLength(3);
    for (const { statement } of kms) {
      expect(statement).toEqual({
        Sid: 'DecryptSecretsThroughSsm',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY,
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['ssm.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      });
    }
    expect(new AwsSolutionsChecks(app).validateScope(app).violations).toEqual([]);
  });

  it('refuses an alias or anything but a key ARN', () => {
    expect(errorOf({ emails: ['a@example.com'], secretsKmsKeyArn: 'alias/aws/ssm' })).toContain(
      '"secretsKmsKeyArn": "alias/aws/ssm" is not a KMS key ARN.',
    );
  });
});
