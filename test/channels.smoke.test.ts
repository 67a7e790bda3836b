/**
 * The channels as a new user would try them: synthesize the app with all four channel keys,
 * run the monitor's bundle through low → critical → recovered and a test invocation against
 * the local stand-ins, and hand every message it published to each channel's bundle, taken
 * from the cloud assembly, the way SNS would. Nothing here imports the handlers' source.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_AWS,
  FakeDiscordWebhook,
  FakePagerDuty,
  FakeTeamsWorkflow,
  FakeWebhookReceiver,
  findChannelFunctions,
  isAllowed,
  rolePolicies,
  runBundle,
  type StandIns,
  type SynthesizedChannel,
  type SynthResult,
  ssmParameterArn,
  startStandIns,
  synthesize,
  verifySignature,
  writeRunner,
} from './support/stand-ins/index.ts';

const API_KEY = 'ngrok-channels-key-NEVER-LOG-1234';
const ROUTING_KEY = 'R0UT1NGKEYchannels0123456789abcd';
const WEBHOOK_SECRET = 'whsec_channels-smoke-secret';
const PARAMS = {
  apiKey: '/ngrok-balance-alert/api-key',
  threshold: '/ngrok-balance-alert/main/threshold-cents',
  critical: '/ngrok-balance-alert/main/critical-threshold-cents',
  pagerduty: '/ngrok-balance-alert/pagerduty-routing-key',
  teams: '/ngrok-balance-alert/teams-workflow-url',
  discord: '/ngrok-balance-alert/discord-webhook-url',
  webhook: '/ngrok-balance-alert/webhook-url',
  webhookSecret: '/ngrok-balance-alert/webhook-secret',
} as const;

let work: string;
let home: string;
let runner: string;
let synth: SynthResult;
let channels: SynthesizedChannel[];
let standIns: StandIns;
const pagerDuty = new FakePagerDuty(ROUTING_KEY);
const teams = new FakeTeamsWorkflow();
const discord = new FakeDiscordWebhook();
const webhook = new FakeWebhookReceiver();
/** Every message the monitor published, as SNS hands it to a Lambda subscriber. */
const published: Array<{ kind: string; message: string; subject: string }> = [];
/** Each channel run's output, to look for secrets. */
const outputs: string[] = [];
const ssmCallsByChannel = new Map<string, string[]>();

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'ngrok-channels-smoke-'));
  home = path.join(work, 'home');
  mkdirSync(home);
  runner = writeRunner(work);
  const outdir = path.join(work, 'cdk.out');
  synth = await synthesize(outdir, {
    emails: 'a@example.com',
    thresholdCents: '500',
    criticalThresholdCents: '200',
    pagerDutyRoutingKeyParameterName: PARAMS.pagerduty,
    teamsWebhookParameterName: PARAMS.teams,
    discordWebhookParameterName: PARAMS.discord,
    webhookUrlParameterName: PARAMS.webhook,
    webhookSecretParameterName: PARAMS.webhookSecret,
  });
  channels = findChannelFunctions(outdir, synth.template);
  standIns = await startStandIns();
  await Promise.all([pagerDuty.start(), teams.start(), discord.start(), webhook.start()]);
  const { ssm } = standIns;
  ssm.put(PARAMS.apiKey, API_KEY, 'SecureString');
  ssm.put(PARAMS.threshold, '500');
  ssm.put(PARAMS.critical, '200');
  ssm.put(PARAMS.pagerduty, ROUTING_KEY, 'SecureString');
  ssm.put(
    PARAMS.teams,
    `${teams.url}/workflows/w1/triggers/manual/paths/invoke?sig=TEAMSSIG`,
    'SecureString',
  );
  ssm.put(PARAMS.discord, `${discord.url}/api/webhooks/1/DISCORDTOKEN`, 'SecureString');
  ssm.put(PARAMS.webhook, `${webhook.url}/hooks/HOOKTOKEN`, 'SecureString');
  ssm.put(PARAMS.webhookSecret, WEBHOOK_SECRET, 'SecureString');

  // The monitor, one cold start per run, as the schedule would invoke it.
  const runs: Array<{ balance?: number; event: unknown }> = [
    { balance: 499, event: { id: 'e1', 'detail-type': 'Scheduled Event' } },
    { balance: 150, event: { id: 'e2', 'detail-type': 'Scheduled Event' } },
    { balance: 2000, event: { id: 'e3', 'detail-type': 'Scheduled Event' } },
    { event: { test: true } },
  ];
  for (const run of runs) {
    if (run.balance !== undefined)
      standIns.ngrok.setAccount(API_KEY, { balanceCents: run.balance });
    const before = standIns.sns.publishes.length;
    const result = await runBundle({
      runner,
      bundle: synth.bundle,
      env: standIns.env(),
      event: run.event,
      home,
    });
    expect(result.report.error, result.stdout).toBeUndefined();
    for (const p of standIns.sns.publishes.slice(before)) {
      const outer = JSON.parse(p.message ?? '{}') as Record<string, string>;
      const lambda = outer.lambda ?? '';
      published.push({ kind: JSON.parse(lambda).kind, message: lambda, subject: p.subject ?? '' });
    }
  }

  // Each channel's bundle gets every message, one SNS invocation each.
  for (const channel of channels) {
    const calls: string[] = [];
    for (const [index, p] of published.entries()) {
      const before = standIns.ssm.requests.length;
      const result = await runBundle({
        runner,
        bundle: channel.bundle,
        env: {
          ...channel.environment,
          ...standIns.env(),
          ...(channel.channel === 'pagerduty' && { PAGERDUTY_EVENTS_URL: pagerDuty.eventsUrl }),
          SUBSCRIBED_TOPIC_ARN: FAKE_AWS.topicArn,
        },
        event: {
          Records: [
            {
              Sns: {
                TopicArn: FAKE_AWS.topicArn,
                MessageId: `m${index}`,
                Message: p.message,
                Subject: p.subject,
              },
            },
          ],
        },
        home,
      });
      expect(result.report.error, `${channel.channel}: ${result.stdout}`).toBeUndefined();
      outputs.push(result.stdout, result.stderr);
      for (const r of standIns.ssm.requests.slice(before)) {
        calls.push(...r.names.map((name) => `ssm:${r.action} ${name}`));
      }
    }
    ssmCallsByChannel.set(channel.channel, calls);
  }
}, 600_000);

afterAll(async () => {
  await Promise.all([
    standIns?.close(),
    pagerDuty.close(),
    teams.close(),
    discord.close(),
    webhook.close(),
  ]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('every channel, from the synthesized bundles', () => {
  it('synthesizes one subscriber per channel', () => {
    expect(channels.map((c) => c.channel).sort()).toEqual([
      'discord',
      'pagerduty',
      'teams',
      'webhook',
    ]);
  });

  it('has the monitor publish low, critical, recovered and the test', () => {
    expect(published.map((p) => p.kind)).toEqual([
      'balance-alert',
      'balance-alert',
      'balance-recovered',
      'test',
    ]);
  });

  it('opens, escalates and resolves exactly one PagerDuty incident, and the test leaves none open', () => {
    const real = pagerDuty.incidents.filter((i) => !i.dedupKey.includes('/test/'));
    expect(real).toEqual([
      {
        dedupKey: 'ngrok-balance-alert/main/balance',
        status: 'resolved',
        severities: ['warning', 'error'],
        summaries: [expect.stringMatching(/low/), expect.stringMatching(/critical/)],
      },
    ]);
    const tests = pagerDuty.incidents.filter((i) => i.dedupKey.includes('/test/'));
    expect(tests.map((i) => [i.status, i.summaries[0]?.startsWith('[TEST]')])).toEqual([
      ['resolved', true],
    ]);
  });

  it('gives Teams one readable card per notification', () => {
    expect(teams.messages).toHaveLength(published.length);
    const texts = teams.messages.map(FakeTeamsWorkflow.textOf).map(asRead);
    expect(texts[0]).toContain('ngrok credits low (main): $4.99 left');
    expect(texts[1]).toContain('ngrok credits critical (main): $1.50 left');
    expect(texts[2]).toContain('ngrok credits recovered (main): $20.00');
    expect(texts[3]).toContain('[TEST]');
    expect(texts[0]).toContain(`aws ssm put-parameter --region ${FAKE_AWS.region}`);
  });

  it('gives Discord one readable embed per notification, coloured by severity', () => {
    expect(discord.messages).toHaveLength(published.length);
    const embeds = discord.messages.map((m) => (m.embeds as Array<Record<string, unknown>>)[0]);
    expect(embeds.map((e) => asRead(String(e?.title)))).toEqual([
      expect.stringContaining('low'),
      expect.stringContaining('critical'),
      expect.stringContaining('recovered'),
      expect.stringContaining('[TEST]'),
    ]);
    expect(new Set(embeds.map((e) => e?.color)).size).toBe(4);
  });

  it('gives the webhook the version 2 JSON of each notification, signed', async () => {
    expect(webhook.deliveries.map((d) => d.body)).toEqual(published.map((p) => p.message));
    for (const d of webhook.deliveries) {
      const header = d.headers['x-ngrok-balance-alert-signature'] as string;
      expect(await verifySignature(WEBHOOK_SECRET, header, d.body, Date.now() / 1000)).toBe(true);
    }
  });

  it('keeps every secret out of the output of every run', () => {
    const all = outputs.join('\n');
    for (const secret of [
      API_KEY,
      ROUTING_KEY,
      WEBHOOK_SECRET,
      'TEAMSSIG',
      'DISCORDTOKEN',
      'HOOKTOKEN',
    ]) {
      expect(all).not.toContain(secret);
    }
  });

  it('lets each channel read only what its role allows, and reads only its own parameters', () => {
    for (const channel of channels) {
      const calls = ssmCallsByChannel.get(channel.channel) ?? [];
      expect(calls.length, channel.channel).toBeGreaterThan(0);
      const statements = rolePolicies(synth.template, channel.roleId, {}).flatMap(
        (p) => p.statements,
      );
      for (const call of calls) {
        const [action = '', name = ''] = call.split(' ');
        expect(isAllowed(statements, action, ssmParameterArn(name)), call).toBe(true);
      }
      expect(isAllowed(statements, 'ssm:GetParameter', ssmParameterArn(PARAMS.apiKey))).toBe(false);
    }
  });
});

/** Markdown text as a person reads it: the backslash escapes of outside text taken out. */
function asRead(markdown: string): string {
  return markdown.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}
