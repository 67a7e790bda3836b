/**
 * The stack with every channel of issue 10 configured: one subscriber per channel, each
 * allowed to read exactly its own parameters, cdk-nag clean, with a failure queue and an
 * alarm per channel.
 */
import { App, Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_SETTINGS, SETTINGS } from '../lambda/config/contract.ts';
import { ConfigError } from '../lib/config.ts';
import { NgrokBalanceAlert } from '../lib/index.ts';
import { monthlyCost } from './support/cost.ts';
import { FAKE_AWS, isAllowed, rolePolicies, ssmParameterArn } from './support/stand-ins/index.ts';
import { logicalIds, type Synthesized, synthesize } from './support/synth.ts';

const PARAMETERS = {
  pagerDutyRoutingKeyParameterName: '/nba/pagerduty-routing-key',
  teamsWebhookParameterName: '/nba/teams-workflow-url',
  discordWebhookParameterName: '/nba/discord-webhook-url',
  webhookUrlParameterName: '/nba/webhook-url',
  webhookSecretParameterName: '/nba/webhook-secret',
} as const;

/** Which parameters each channel's function may read. */
const EXPECTED: Record<string, readonly string[]> = {
  pagerduty: [PARAMETERS.pagerDutyRoutingKeyParameterName],
  teams: [PARAMETERS.teamsWebhookParameterName],
  discord: [PARAMETERS.discordWebhookParameterName],
  webhook: [PARAMETERS.webhookUrlParameterName, PARAMETERS.webhookSecretParameterName],
};

interface ChannelFunction {
  readonly channel: string;
  readonly id: string;
  readonly env: Record<string, unknown>;
  readonly roleId: string;
}

function channelFunctions(s: Synthesized): ChannelFunction[] {
  return logicalIds(s.json, 'AWS::Lambda::Function').flatMap((id) => {
    const props = s.json.Resources[id]?.Properties ?? {};
    const env = (props.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    if (typeof env?.CHANNEL !== 'string') return [];
    const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    return [{ channel: env.CHANNEL, id, env, roleId }];
  });
}

describe('stack with PagerDuty, Teams, Discord and a signed webhook', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize({
      emails: 'a@example.com',
      ...PARAMETERS,
      pagerDutyEventsUrl: 'https://events.eu.pagerduty.com/v2/enqueue',
    });
  });

  it('has one subscriber function per channel, each subscribed to the alert topic', () => {
    const fns = channelFunctions(synthesized);
    expect(fns.map((f) => f.channel).sort()).toEqual(['discord', 'pagerduty', 'teams', 'webhook']);
    const subscribed = logicalIds(synthesized.json, 'AWS::SNS::Subscription')
      .map((id) => synthesized.json.Resources[id]?.Properties ?? {})
      .filter((p) => p.Protocol === 'lambda')
      .map((p) => (p.Endpoint as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    expect(subscribed.sort()).toEqual(fns.map((f) => f.id).sort());
  });

  it('lets only SNS, from the alert topic, invoke each channel function', () => {
    const topic = { Ref: logicalIds(synthesized.json, 'AWS::SNS::Topic')[0] };
    for (const fn of channelFunctions(synthesized)) {
      const permissions = logicalIds(synthesized.json, 'AWS::Lambda::Permission')
        .map((id) => synthesized.json.Resources[id]?.Properties ?? {})
        .filter(
          (p) =>
            JSON.stringify(p.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [fn.id, 'Arn'] }),
        );
      expect(permissions, fn.channel).toEqual([
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [fn.id, 'Arn'] },
          Principal: 'sns.amazonaws.com',
          SourceArn: topic,
        },
      ]);
    }
  });

  it('puts the parameter names and the events URL in the environment, never a value', () => {
    const byChannel = Object.fromEntries(
      channelFunctions(synthesized).map((f) => [f.channel, f.env]),
    );
    const topic = { Ref: logicalIds(synthesized.json, 'AWS::SNS::Topic')[0] };
    expect(byChannel.pagerduty).toEqual({
      CHANNEL: 'pagerduty',
      PARAMETER_NAME: PARAMETERS.pagerDutyRoutingKeyParameterName,
      PAGERDUTY_EVENTS_URL: 'https://events.eu.pagerduty.com/v2/enqueue',
      SUBSCRIBED_TOPIC_ARN: topic,
    });
    expect(byChannel.webhook).toEqual({
      CHANNEL: 'webhook',
      PARAMETER_NAME: PARAMETERS.webhookUrlParameterName,
      SECRET_PARAMETER_NAME: PARAMETERS.webhookSecretParameterName,
      SUBSCRIBED_TOPIC_ARN: topic,
    });
  });

  it.each(Object.keys(EXPECTED))(
    'lets the %s function read exactly its own parameters',
    (channel) => {
      // Prepare
      const fn = channelFunctions(synthesized).find((f) => f.channel === channel);
      const statements = rolePolicies(synthesized.json as never, fn?.roleId ?? '', {}).flatMap(
        (p) => p.statements,
      );
      const ssmResources = statements
        .filter((s) => [s.Action].flat().some((a) => String(a).startsWith('ssm:')))
        .flatMap((s) => [s.Resource].flat());

      // Assess
      expect(ssmResources.sort()).toEqual((EXPECTED[channel] ?? []).map(ssmParameterArn).sort());
      for (const name of EXPECTED[channel] ?? []) {
        expect(isAllowed(statements, 'ssm:GetParameter', ssmParameterArn(name))).toBe(true);
      }
      for (const [other, names] of Object.entries(EXPECTED)) {
        if (other === channel) continue;
        for (const name of names) {
          expect(isAllowed(statements, 'ssm:GetParameter', ssmParameterArn(name)), name).toBe(
            false,
          );
        }
      }
      expect(
        isAllowed(statements, 'ssm:GetParameter', ssmParameterArn('/ngrok-balance-alert/api-key')),
      ).toBe(false);
      expect(isAllowed(statements, 'sns:Publish', FAKE_AWS.topicArn)).toBe(false);
    },
  );

  it('gives each channel a failure queue with an alarm: $0.10 a month per channel', () => {
    const base = monthlyCost(synthesize({ emails: 'a@example.com' }).json, {
      mode: 'none',
      accounts: 1,
    });
    const all = monthlyCost(synthesized.json, { mode: 'none', accounts: 1 });
    expect(all.alarmMetrics - base.alarmMetrics).toBe(4);
    expect(Math.round((all.usd - base.usd) * 100)).toBe(40);
    expect(logicalIds(synthesized.json, 'AWS::Lambda::EventInvokeConfig')).toHaveLength(5);
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    const violations = new AwsSolutionsChecks(synthesized.app).validateScope(
      synthesized.app,
    ).violations;
    expect(violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('channel settings', () => {
  it('defaults the PagerDuty events URL to the US service region', () => {
    const s = synthesize({ pagerDutyRoutingKeyParameterName: '/nba/pd' });
    const [pd] = channelFunctions(s);
    expect(pd?.env.PAGERDUTY_EVENTS_URL).toBe('https://events.pagerduty.com/v2/enqueue');
  });

  it('refuses a webhook secret without a webhook URL, and an events URL that is not https', () => {
    expect(() => synthesize({ webhookSecretParameterName: '/nba/s' })).toThrow(ConfigError);
    expect(() => synthesize({ webhookSecretParameterName: '/nba/s' })).toThrow(
      /"webhookSecretParameterName" was given without "webhookUrlParameterName"/,
    );
  });

  it.each([
    'http://x',
    'http://events.pagerduty.com/v2/enqueue',
    'https://events.pagerduty.com.evil.example/v2/enqueue',
    'https://evil.example/v2/enqueue',
    'https://user:pw@events.pagerduty.com/v2/enqueue',
    'https://events.pagerduty.com:8443/v2/enqueue',
  ])('refuses the events URL %s: the routing key would go to another host', (url) => {
    expect(() =>
      synthesize({ pagerDutyRoutingKeyParameterName: '/nba/pd', pagerDutyEventsUrl: url }),
    ).toThrow(`"pagerDutyEventsUrl": "${url}" is not a PagerDuty events URL. Expected https://`);
  });

  it.each([
    'https://events.pagerduty.com/v2/enqueue',
    'https://events.eu.pagerduty.com/v2/enqueue',
    'http://127.0.0.1:4010/v2/enqueue',
    'http://localhost:4010/v2/enqueue',
    'http://[::1]:4010/v2/enqueue',
  ])("accepts PagerDuty's host or a loopback address: %s", (url) => {
    const s = synthesize({ pagerDutyRoutingKeyParameterName: '/nba/pd', pagerDutyEventsUrl: url });
    expect(channelFunctions(s)[0]?.env.PAGERDUTY_EVENTS_URL).toBe(url);
  });

  it('creates no channel function by default', () => {
    expect(channelFunctions(synthesize({ emails: 'a@example.com' }))).toEqual([]);
  });
});

describe('one parameter, one role', () => {
  /** The configuration error of a synth with these context values. */
  function problemsOf(context: Record<string, unknown>): string {
    try {
      synthesize({ emails: 'a@example.com', ...context });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected a ConfigError');
  }

  it('refuses the API key parameter as a channel secret, naming both settings', () => {
    expect(
      problemsOf({ pagerDutyRoutingKeyParameterName: '/ngrok-balance-alert/api-key' }),
    ).toContain(
      '"pagerDutyRoutingKeyParameterName": "/ngrok-balance-alert/api-key" is also ' +
        '"tokenParameterName". Expected a parameter of its own for each role: the PagerDuty ' +
        'routing key and the ngrok API key of account "main" would be read from one parameter',
    );
  });

  it("refuses an account's key as a channel secret, naming the entry", () => {
    const accounts = [
      { name: 'prod', tokenParameterName: '/ngrok/prod' },
      { name: 'dev', tokenParameterName: '/ngrok/dev' },
    ];
    expect(problemsOf({ accounts, teamsWebhookParameterName: 'ngrok/dev' })).toContain(
      '"teamsWebhookParameterName": "ngrok/dev" is also "accounts[1].tokenParameterName".',
    );
  });

  it('refuses one parameter for two channels, and the webhook URL as its own secret', () => {
    const message = problemsOf({
      teamsWebhookParameterName: '/nba/url',
      discordWebhookParameterName: '/nba/url',
      webhookUrlParameterName: '/nba/hook',
      webhookSecretParameterName: '/nba/hook',
    });
    expect(message).toContain(
      '"discordWebhookParameterName": "/nba/url" is also "teamsWebhookParameterName".',
    );
    expect(message).toContain(
      '"webhookSecretParameterName": "/nba/hook" is also "webhookUrlParameterName".',
    );
  });

  it('refuses a parameter the stack creates as a channel secret', () => {
    expect(
      problemsOf({ slackWebhookParameterName: '/ngrok-balance-alert/main/threshold-cents' }),
    ).toContain(
      '"slackWebhookParameterName": "/ngrok-balance-alert/main/threshold-cents" is the ' +
        'threshold parameter of account "main", which the stack creates.',
    );
  });

  it('accepts a parameter of its own for each role', () => {
    expect(() => synthesize({ emails: 'a@example.com', ...PARAMETERS })).not.toThrow();
  });
});

describe('the construct with channel props', () => {
  it('exposes the function of each configured channel, and only those', () => {
    // Prepare
    const stack = new Stack(new App(), 'Consumer');

    // Act
    const monitor = new NgrokBalanceAlert(stack, 'NgrokCredits', {
      teamsWebhookParameterName: '/acme/teams-url',
      pagerDutyRoutingKeyParameterName: '/acme/pd-key',
    });

    // Assess
    expect(Object.keys(monitor.channelFunctions).sort()).toEqual(['pagerduty', 'teams']);
  });

  it('lists the Slack webhook function too', () => {
    const stack = new Stack(new App(), 'Consumer');
    const monitor = new NgrokBalanceAlert(stack, 'NgrokCredits', {
      slackWebhookParameterName: '/acme/slack-url',
    });
    expect(Object.keys(monitor.channelFunctions)).toEqual(['slack']);
  });

  it('fails with the prop, the value and the form for a bad parameter name', () => {
    const stack = new Stack(new App(), 'Consumer');
    expect(
      () =>
        new NgrokBalanceAlert(stack, 'NgrokCredits', { discordWebhookParameterName: 'aws/x y' }),
    ).toThrow(/"discordWebhookParameterName": "aws\/x y" is not an SSM parameter name/);
  });
});

describe('the recipient marker in the contract', () => {
  it('is on every setting that makes the deployment notify somebody, and on no other', () => {
    const marked = [
      ...Object.entries(SETTINGS),
      ...Object.entries(ACCOUNT_SETTINGS).map(([key, s]) => [`accounts[].${key}`, s] as const),
    ]
      .filter(([, s]) => 'recipient' in s && s.recipient === true)
      .map(([key]) => key)
      .sort();
    expect(marked).toEqual(
      [
        'accounts[].emails',
        'discordWebhookParameterName',
        'emails',
        'pagerDutyRoutingKeyParameterName',
        'slackChannelId',
        'slackWebhookParameterName',
        'slackWorkspaceId',
        'teamsWebhookParameterName',
        'webhookUrlParameterName',
      ].sort(),
    );
  });
});
