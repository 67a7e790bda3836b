/**
 * The Amazon Q custom actions ("Snooze 1 day", "Check now", "Buy $X now"): what the template
 * asks Amazon Q to run, what the channel may do, and whether CloudFormation would take the
 * resources. The schemas in test/fixtures/cloudformation/ are CloudFormation's published
 * resource schemas for AWS::Chatbot::CustomAction and AWS::Chatbot::SlackChannelConfiguration,
 * as cfn-lint 1.51.0 bundles them (its provider schemas, data/schemas/resources/): checked
 * here with ajv, so the test needs no Python.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MonitorConfig } from '../lambda/common/types.ts';
import { expandSnooze, parseAccountCommand } from '../lambda/run/commands.ts';
import {
  ACTION_ALIASES,
  ACTION_PAYLOADS,
  type AmazonQActionAccount,
  COMMAND_TEXT_MAX,
  MONITOR_NAME_MAX,
  monitorFunctionName,
} from '../lib/amazon-q-actions.ts';
import { SlackNotifications } from '../lib/slack-notifications.ts';
import { synthesize, type TemplateJson } from './support/synth.ts';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const SLACK = { workspaceId: 'T0123456789', channelId: 'C0123456789' };

function schema(name: string): object {
  return JSON.parse(
    readFileSync(new URL(`./fixtures/cloudformation/${name}.schema.json`, import.meta.url), 'utf8'),
  ) as object;
}

// The resource schemas carry CloudFormation's own keywords (insertionOrder, tagging, ...):
// not strict, so ajv ignores those and checks the JSON Schema ones.
const ajv = new Ajv({ strict: false, allErrors: true });
const validateCustomAction = ajv.compile(schema('aws-chatbot-customaction'));
const validateChannel = ajv.compile(schema('aws-chatbot-slackchannelconfiguration'));

type Resources = TemplateJson['Resources'];

/**
 * A property value as CloudFormation would pass it to the resource: Ref, GetAtt and Join
 * resolved to plausible values (a function's own name when it was given one, else one of
 * Lambda's longest, 64 characters).
 */
function resolve(value: unknown, resources: Resources): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, resources));
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  if ('Ref' in o) {
    const ref = String(o.Ref);
    if (ref === 'AWS::Partition') return 'aws';
    if (ref === 'AWS::Region') return ENV.region;
    if (ref === 'AWS::AccountId') return ENV.account;
    const type = resources[ref]?.Type;
    if (type === 'AWS::Lambda::Function') {
      const given = resources[ref]?.Properties?.FunctionName;
      return typeof given === 'string' ? given : `NgrokBalanceAlert-${'M'.repeat(46)}`;
    }
    if (type === 'AWS::IAM::ManagedPolicy') return `arn:aws:iam::${ENV.account}:policy/${ref}`;
    if (type === 'AWS::SNS::Topic') return `arn:aws:sns:${ENV.region}:${ENV.account}:${ref}`;
    return ref;
  }
  if ('Fn::GetAtt' in o) {
    const [id, attribute] = o['Fn::GetAtt'] as [string, string];
    const resource = resources[id];
    if (resource?.Type === 'AWS::Chatbot::CustomAction' && attribute === 'CustomActionArn') {
      const name = resolve(resource.Properties?.ActionName, resources);
      return `arn:aws:chatbot::${ENV.account}:custom-action/${name}`;
    }
    if (resource?.Type === 'AWS::IAM::Role') return `arn:aws:iam::${ENV.account}:role/${id}`;
    if (resource?.Type === 'AWS::Lambda::Function') {
      return `arn:aws:lambda:${ENV.region}:${ENV.account}:function:${id}`;
    }
    return `${id}.${attribute}`;
  }
  if ('Fn::Join' in o) {
    const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolve(p, resources)).join(separator);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, resources)]));
}

function ofType(json: TemplateJson, type: string) {
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

function onlyChannel(json: TemplateJson) {
  const channels = ofType(json, 'AWS::Chatbot::SlackChannelConfiguration');
  expect(channels).toHaveLength(1);
  return channels[0]?.[1];
}

/** The logical id of the channel configuration's role. */
function channelRoleId(json: TemplateJson): string {
  const arn = onlyChannel(json)?.Properties?.IamRoleArn as { 'Fn::GetAtt': [string, string] };
  return arn['Fn::GetAtt'][0];
}

interface Built {
  readonly app: App;
  readonly stack: Stack;
  readonly json: TemplateJson;
  readonly monitor: lambda.Function;
}

function build(accounts: AmazonQActionAccount[]): Built {
  const app = new App();
  const stack = new Stack(app, 'Alerts', { env: ENV });
  const topic = new sns.Topic(stack, 'AlertTopic', { enforceSSL: true });
  const monitor = new lambda.Function(stack, 'Monitor', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
  new SlackNotifications(stack, 'Slack', { topic, slack: SLACK, actions: { monitor, accounts } });
  return { app, stack, monitor, json: Template.fromStack(stack).toJSON() as TemplateJson };
}

/** The custom actions by alias: command (resolved), buttons. */
function actionsOf(json: TemplateJson) {
  return Object.fromEntries(
    ofType(json, 'AWS::Chatbot::CustomAction').map(([, r]) => {
      const p = resolve(r.Properties, json.Resources) as {
        AliasName: string;
        ActionName: string;
        Definition: { CommandText: string };
        Attachments: { ButtonText: string; Criteria: { VariableName: string; Value?: string }[] }[];
      };
      return [p.AliasName, p];
    }),
  );
}

describe('Amazon Q custom actions, one account with auto top-up', () => {
  let b: Built;
  beforeAll(() => {
    b = build([{ name: 'main', autoTopUpCents: 2000 }]);
  });

  it('adds "Snooze 1 day", "Check now" and "Buy $20.00 now", each runnable by its alias', () => {
    const actions = actionsOf(b.json);
    expect(Object.keys(actions).sort()).toEqual(['ngrok-buy', 'ngrok-check', 'ngrok-snooze']);
    const fn = `NgrokBalanceAlert-${'M'.repeat(46)}`;
    expect(actions[ACTION_ALIASES.snooze]?.Definition.CommandText).toBe(
      `lambda invoke --function-name ${fn} --payload {"snooze":"$account"}`,
    );
    expect(actions[ACTION_ALIASES.check]?.Definition.CommandText).toBe(
      `lambda invoke --function-name ${fn} --payload ${ACTION_PAYLOADS.check}`,
    );
    expect(actions[ACTION_ALIASES.topUp]?.Definition.CommandText).toBe(
      `lambda invoke --function-name ${fn} --payload {"topUp":"$account"}`,
    );
    expect(new Set(actions[ACTION_ALIASES.snooze]?.Attachments.map((a) => a.ButtonText))).toEqual(
      new Set(['Snooze 1 day']),
    );
    expect(new Set(actions[ACTION_ALIASES.check]?.Attachments.map((a) => a.ButtonText))).toEqual(
      new Set(['Check now']),
    );
    expect(actions[ACTION_ALIASES.topUp]?.Attachments.map((a) => a.ButtonText)).toEqual(
      Array(4).fill('Buy $20.00 now'),
    );
    // "Buy" shows on balance, runway and spike alerts and reminders, not on recoveries.
    const kinds = actions[ACTION_ALIASES.topUp]?.Attachments.map(
      (a) => a.Criteria.find((c) => c.VariableName === 'kind')?.Value,
    );
    expect(kinds).toEqual(['balance-alert', 'balance-reminder', 'spike-started', 'spike-reminder']);
  });

  it('passes CloudFormation’s resource schema for AWS::Chatbot::CustomAction', () => {
    const found = ofType(b.json, 'AWS::Chatbot::CustomAction');
    expect(found).toHaveLength(3);
    for (const [id, resource] of found) {
      const properties = resolve(resource.Properties, b.json.Resources);
      const valid = validateCustomAction(properties);
      expect(validateCustomAction.errors ?? [], id).toEqual([]);
      expect(valid).toBe(true);
    }
  });

  it('links the actions to the channel, whose configuration passes its resource schema', () => {
    const channel = onlyChannel(b.json);
    const actionIds = ofType(b.json, 'AWS::Chatbot::CustomAction').map(([id]) => id);
    expect(channel?.Properties?.CustomizationResourceArns).toEqual(
      actionIds.map((id) => ({ 'Fn::GetAtt': [id, 'CustomActionArn'] })),
    );
    const properties = resolve(channel?.Properties, b.json.Resources);
    validateChannel(properties);
    expect(validateChannel.errors ?? []).toEqual([]);
  });

  it('lets the channel’s role and guardrail invoke exactly the monitor function, nothing else', () => {
    const monitorArn = {
      'Fn::GetAtt': [b.stack.getLogicalId(b.monitor.node.defaultChild as never), 'Arn'],
    };
    const only = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'InvokeMonitorOnly',
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: monitorArn,
        },
      ],
    };
    const channel = onlyChannel(b.json);
    const roleId = channelRoleId(b.json);
    const policies = ofType(b.json, 'AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties?.Roles).includes(roleId),
    );
    expect(policies.map(([, p]) => p.Properties?.PolicyDocument)).toEqual([only]);
    expect(b.json.Resources[roleId]?.Properties?.ManagedPolicyArns).toBeUndefined();
    const guardrails = channel?.Properties?.GuardrailPolicies as { Ref: string }[];
    expect(guardrails).toHaveLength(1);
    const guardrail = b.json.Resources[guardrails[0]?.Ref ?? ''];
    expect(guardrail?.Type).toBe('AWS::IAM::ManagedPolicy');
    expect(guardrail?.Properties?.PolicyDocument).toEqual(only);
    expect(guardrail?.Properties?.Roles).toBeUndefined();
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    const checks = new AwsSolutionsChecks(b.app);
    Validations.of(b.app).addPlugins(checks);
    // The stand-in monitor function is not the product's (the stack test checks that one).
    const ours = checks
      .validateScope(b.app)
      .violations.filter((v) =>
        v.violatingResources.some((r) => !r.constructPath?.startsWith('Alerts/Monitor/')),
      );
    expect(ours).toEqual([]);
  });

  it('names the actions uniquely per stack, within the API’s limits', () => {
    for (const action of Object.values(actionsOf(b.json))) {
      expect(action.ActionName).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
      expect(action.ActionName).toMatch(/Alerts/);
    }
  });
});

describe('Amazon Q custom actions, several accounts', () => {
  it('offers no "Buy" where no account has auto top-up', () => {
    const { json } = build([{ name: 'prod' }, { name: 'staging' }]);
    expect(Object.keys(actionsOf(json)).sort()).toEqual(['ngrok-check', 'ngrok-snooze']);
  });

  it('offers "Buy" per account, with its own amount, when accounts differ', () => {
    const { json } = build([
      { name: 'prod', autoTopUpCents: 5000 },
      { name: 'staging' },
      { name: 'eu', autoTopUpCents: 2000 },
    ]);
    const buy = actionsOf(json)['ngrok-buy'];
    const byAccount = new Map<string, Set<string>>();
    for (const a of buy?.Attachments ?? []) {
      const account = a.Criteria.find((c) => c.VariableName === 'account' && c.Value)?.Value ?? '';
      byAccount.set(account, (byAccount.get(account) ?? new Set()).add(a.ButtonText));
    }
    expect(Object.fromEntries([...byAccount].map(([k, v]) => [k, [...v]]))).toEqual({
      prod: ['Buy $50.00 now'],
      eu: ['Buy $20.00 now'],
    });
    for (const [, resource] of ofType(json, 'AWS::Chatbot::CustomAction')) {
      validateCustomAction(resolve(resource.Properties, json.Resources));
      expect(validateCustomAction.errors ?? []).toEqual([]);
    }
  });
});

describe('the synthesized app with an Amazon Q channel and auto top-up', () => {
  let json: TemplateJson;
  beforeAll(() => {
    json = synthesize({
      emails: 'ci@example.com',
      slackWorkspaceId: SLACK.workspaceId,
      slackChannelId: SLACK.channelId,
      autoTopUpCents: '2000',
      autoTopUpMonthlyCapCents: '6000',
    }).json;
  });

  it('has the three custom actions, schema-valid, invoking the monitor function', () => {
    const found = ofType(json, 'AWS::Chatbot::CustomAction');
    expect(found).toHaveLength(3);
    const monitorIds = ofType(json, 'AWS::Lambda::Function')
      .filter(([id]) => /Monitor/.test(id))
      .map(([id]) => id);
    for (const [, resource] of found) {
      expect(validateCustomAction(resolve(resource.Properties, json.Resources))).toBe(true);
      const text = JSON.stringify(resource.Properties?.Definition);
      expect(monitorIds.some((id) => text.includes(`"Ref":"${id}"`))).toBe(true);
    }
  });

  it('grants the channel role only lambda:InvokeFunction on the monitor', () => {
    const roleId = channelRoleId(json);
    const statements = ofType(json, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties?.Roles).includes(roleId))
      .flatMap(
        ([, p]) =>
          (p.Properties?.PolicyDocument as { Statement?: unknown[] } | undefined)?.Statement ?? [],
      );
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction' });
    const resource = JSON.stringify((statements[0] as { Resource: unknown }).Resource);
    expect(resource).toMatch(/^\{"Fn::GetAtt":\["[A-Za-z0-9]*Monitor[A-Za-z0-9]*","Arn"\]\}$/);
  });
});

describe('the 100 characters of a command', () => {
  // The longest names the configuration allows: a 128-character stack name (lib/config.ts)
  // and a 48-character account name (lambda/config/contract.ts).
  const stackName = `S${'a'.repeat(127)}`;
  const accountName = `a${'b'.repeat(47)}`;
  let json: TemplateJson;
  beforeAll(() => {
    json = synthesize({
      stackName,
      accountName,
      emails: 'ci@example.com',
      slackWorkspaceId: SLACK.workspaceId,
      slackChannelId: SLACK.channelId,
      autoTopUpCents: '2000',
      autoTopUpMonthlyCapCents: '6000',
    }).json;
  });

  it('names the monitor function from the stack name, cut, with a hash: at most 38 characters', () => {
    expect(MONITOR_NAME_MAX).toBe(38);
    const [, monitor] = ofType(json, 'AWS::Lambda::Function').find(([id]) =>
      /Monitor/.test(id),
    ) ?? [undefined, undefined];
    const name = monitor?.Properties?.FunctionName as string;
    expect(name).toMatch(/^Saaaa[a]*-[0-9a-f]{8}$/);
    expect(name.length).toBe(MONITOR_NAME_MAX);
  });

  it('keeps every command, as stored, within 100 characters', () => {
    const commands = Object.values(actionsOf(json)).map((a) => a.Definition.CommandText);
    expect(commands).toHaveLength(3);
    for (const command of commands) {
      // The real name, not the test's stand-in for a generated one.
      expect(command).toMatch(/--function-name Saaaa[a]*-[0-9a-f]{8} --payload /);
      expect(command.length).toBeLessThanOrEqual(COMMAND_TEXT_MAX);
    }
    // The account name is not in the command: Amazon Q fills in $account when it runs.
    expect(commands.join('\n')).not.toContain(accountName);
    expect(Math.max(...commands.map((c) => c.length))).toBe(COMMAND_TEXT_MAX);
  });

  it('gives two stacks, or two monitors, different names even when the cut names agree', () => {
    const a = monitorFunctionName(new Stack(new App(), `${stackName}1`));
    const b = monitorFunctionName(new Stack(new App(), `${stackName}2`));
    expect(a.slice(0, 29)).toBe(b.slice(0, 29));
    expect(a).not.toBe(b);
  });

  it('fails synthesis for a named monitor whose commands would be too long', () => {
    const app = new App();
    const stack = new Stack(app, 'Alerts', { env: ENV });
    const topic = new sns.Topic(stack, 'AlertTopic', { enforceSSL: true });
    const name = 'm'.repeat(MONITOR_NAME_MAX + 1);
    const monitor = new lambda.Function(stack, 'Monitor', {
      functionName: name,
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    });
    new SlackNotifications(stack, 'Slack', {
      topic,
      slack: SLACK,
      actions: { monitor, monitorFunctionName: name, accounts: [{ name: 'main' }] },
    });
    expect(() => app.synth()).toThrow(/Amazon Q takes at most 100/);
  });

  it('the short payloads read as the long ones', () => {
    const config = { accounts: [{ name: 'main' }] } as unknown as MonitorConfig;
    const fill = (payload: string) => JSON.parse(payload.replace('$account', 'main'));
    expect(expandSnooze(fill(ACTION_PAYLOADS.snooze).snooze)).toEqual({
      account: 'main',
      for: '24h',
    });
    expect(parseAccountCommand('check', fill(ACTION_PAYLOADS.check).check, config)).toEqual({
      account: { name: 'main' },
    });
    expect(parseAccountCommand('topUp', fill(ACTION_PAYLOADS.topUp).topUp, config)).toEqual({
      account: { name: 'main' },
    });
  });
});
