/**
 * Smoke test of the artifact that would be deployed: synthesizes the real app, takes the
 * monitor function's bundled index.mjs from the cloud assembly, and runs it in fresh Node
 * processes against local stand-ins for ngrok, SSM, SNS and the DynamoDB state table. Nothing here imports the
 * handler's source: what runs is exactly what `cdk deploy` would upload.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRecord } from '../lambda/store/account-record.ts';
import {
  type AwsCall,
  type BundleRun,
  FAKE_AWS,
  isAllowed,
  type PolicyStatement,
  rolePolicies,
  runBundle,
  STATE_TABLE_ARN,
  type StandIns,
  type SynthResult,
  ssmParameterArn,
  startStandIns,
  synthesize,
  writeRunner,
} from './support/stand-ins/index.ts';

/** What the synthesized default deployment names (single account "main"). */
const PARAMS = {
  apiKey: '/ngrok-balance-alert/api-key',
  threshold: '/ngrok-balance-alert/main/threshold-cents',
} as const;
/** The account's record in the state table. */
const STATE_KEY = 'account#main';
/** Deployed with -c thresholdCents=500. */
const THRESHOLD_CENTS = '500';
/** Must never appear in logs, errors or notifications. */
const API_KEY = 'ngrok-smoke-key-NEVER-LOG-5678';

let work: string;
let synth: SynthResult;
let runner: string;
let home: string;
let eventCounter = 0;
/** Every AWS call any run in this file made, for the IAM check. */
const allAwsCalls: AwsCall[] = [];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'ngrok-artifact-smoke-'));
  home = path.join(work, 'home');
  mkdirSync(home);
  runner = writeRunner(work);
  synth = await synthesize(path.join(work, 'cdk.out'), {
    emails: 'a@example.com',
    thresholdCents: THRESHOLD_CENTS,
  });
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function scheduledEvent(id = `smoke-event-${++eventCounter}`) {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: FAKE_AWS.accountId,
    time: new Date().toISOString(),
    region: FAKE_AWS.region,
    resources: [`arn:aws:events:${FAKE_AWS.region}:${FAKE_AWS.accountId}:rule/smoke`],
    detail: {},
  };
}

/** Fresh stand-ins seeded as a deployed stack plus the user's API key would leave them. */
async function freshStandIns(balanceCents: number | number[]): Promise<StandIns> {
  const standIns = await startStandIns();
  standIns.ssm.put(PARAMS.apiKey, API_KEY, 'SecureString');
  standIns.ssm.put(PARAMS.threshold, THRESHOLD_CENTS);
  standIns.ngrok.setAccount(API_KEY, { balanceCents });
  return standIns;
}

/** The account's record as the function saved it. */
async function saved(standIns: StandIns): Promise<AccountRecord | undefined> {
  return (await standIns.state.read(STATE_KEY)).value as AccountRecord | undefined;
}

/** Seeds the account's record as an earlier run would have left it. */
async function seedAlert(standIns: StandIns, alert: AccountRecord['alert']): Promise<void> {
  await standIns.state.write(STATE_KEY, 0, { alert, outbox: [] });
}

/** The function's calls to the state table so far, by action. */
function tableCalls(standIns: StandIns): string[] {
  return standIns.awsCalls().flatMap((c) => (c.action.startsWith('dynamodb:') ? [c.action] : []));
}

async function withStandIns(
  balanceCents: number | number[],
  body: (standIns: StandIns) => Promise<void>,
): Promise<void> {
  const standIns = await freshStandIns(balanceCents);
  try {
    await body(standIns);
  } finally {
    allAwsCalls.push(...standIns.awsCalls());
    await standIns.close();
  }
}

/** One cold start: a new Node process imports the bundle and invokes the handler once. */
async function coldInvoke(standIns: StandIns, event: unknown = scheduledEvent()) {
  const run = await runBundle({
    runner,
    bundle: synth.bundle,
    env: standIns.env(),
    event,
    home,
  });
  expect(majorOf(run.report.node)).toBe(24);
  await expectNoSecret(run, standIns);
  return run;
}

function expectSucceeded(run: BundleRun) {
  expect(run.report.error, `${run.stderr}\n${run.stdout}`).toBeUndefined();
  expect(run.exitCode).toBe(0);
}

async function expectNoSecret(run: BundleRun, standIns: StandIns) {
  expect(run.stdout).not.toContain(API_KEY);
  expect(run.stderr).not.toContain(API_KEY);
  expect(JSON.stringify(run.report)).not.toContain(API_KEY);
  for (const p of standIns.sns.requests) expect(JSON.stringify(p.form)).not.toContain(API_KEY);
  expect(JSON.stringify(await saved(standIns)) ?? '').not.toContain(API_KEY);
}

function majorOf(version: string): number {
  return Number(version.replace(/^v/, '').split('.')[0]);
}

/** The email text of a published notification. */
function emailOf(message: string | undefined): string {
  return (JSON.parse(message ?? '{}') as Record<string, string>).email ?? '';
}

/** The structured copy of a published notification (the `lambda` protocol entry). */
function structured(message: string | undefined): { kind: string; account: string } {
  const outer = JSON.parse(message ?? '{}') as Record<string, string>;
  return JSON.parse(outer.lambda ?? '{}') as { kind: string; account: string };
}

describe('the synthesized bundle', () => {
  it('runs under Node 24 (the Lambda runtime the stack declares)', () => {
    expect(majorOf(process.versions.node)).toBe(24);
    const fn = synth.template.Resources[synth.functionId];
    expect(fn?.Properties?.Runtime).toBe('nodejs24.x');
    expect(readFileSync(synth.bundle, 'utf8').length).toBeGreaterThan(0);
  });

  it('loads in a fresh Node 24 process and carries the createRequire banner', async () => {
    const { ESM_REQUIRE_BANNER } = await import('../scripts/bundling.ts');
    const text = readFileSync(synth.bundle, 'utf8');
    // esbuild's shim for a CommonJS require in an ESM bundle throws "Dynamic require of ...
    // is not supported" when no real `require` is in scope; the banner provides one.
    expect(text.split('\n', 1)[0]).toBe(ESM_REQUIRE_BANNER);

    const run = await runBundle({ runner, bundle: synth.bundle, mode: 'import', env: {}, home });
    expect(run.report.error).toBeUndefined();
    expect(majorOf(run.report.node)).toBe(24);
  });

  it('needs the banner for CommonJS require in an ESM bundle: esbuild shim throws without it', async () => {
    // The SDK version in the bundle today is pure ESM (the bundle loads with or without the
    // banner); this pins down that the banner does its job for the day a CommonJS
    // dependency arrives, built with the stack's own esbuild settings.
    const { ESM_REQUIRE_BANNER } = await import('../scripts/bundling.ts');
    const dir = path.join(work, 'banner-check');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'dep.cjs'),
      "const os = require('node:os'); module.exports = { platform: () => os.platform() };",
    );
    writeFileSync(
      path.join(dir, 'entry.mjs'),
      "import dep from './dep.cjs'; export const handler = async () => dep.platform();",
    );
    const bundleWith = async (banner: string | undefined, outfile: string) => {
      await build({
        entryPoints: [path.join(dir, 'entry.mjs')],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        minify: true,
        mainFields: ['module', 'main'],
        ...(banner ? { banner: { js: banner } } : {}),
        logLevel: 'silent',
      });
      return runBundle({ runner, bundle: outfile, env: {}, home });
    };
    const withBanner = await bundleWith(ESM_REQUIRE_BANNER, path.join(dir, 'with.mjs'));
    expect(withBanner.report.error).toBeUndefined();
    expect(withBanner.report.result).toBe(process.platform);

    const without = await bundleWith(undefined, path.join(dir, 'without.mjs'));
    expect(without.report.error?.message).toMatch(/Dynamic require of "node:os" is not supported/);
  });
});

describe('the bundled handler against local stand-ins', () => {
  it('balance 499 (below 500): exactly one low-balance Publish and the state saved', async () => {
    await withStandIns(499, async (standIns) => {
      const event = scheduledEvent();
      const run = await coldInvoke(standIns, event);
      expectSucceeded(run);

      const publishes = standIns.sns.publishes;
      expect(publishes).toHaveLength(1);
      const [publish] = publishes;
      expect(publish?.topicArn).toBe(FAKE_AWS.topicArn);
      expect(publish?.subject).toMatch(/low/i);
      expect(publish?.subject).toContain('$4.99');
      expect(publish?.messageStructure).toBe('json');
      const message = JSON.parse(publish?.message ?? '{}') as Record<string, unknown>;
      expect(typeof message.default).toBe('string');
      expect(typeof message.email).toBe('string');
      expect(structured(publish?.message)).toMatchObject({
        version: 2,
        kind: 'balance-alert',
        event: 'trigger',
        dedupKey: 'ngrok-balance-alert/main/balance',
        account: 'main',
      });
      // The region comes from AWS_REGION, as Lambda sets it, into every command.
      expect(message.email).toContain(`aws ssm put-parameter --region ${FAKE_AWS.region} --name`);
      expect(publish?.messageAttributes).toEqual({ account: 'main' });

      // SSM is only read; the state, with the alert it decided, went to the table.
      expect(standIns.ssm.requests.map((r) => r.action)).toEqual(['GetParameters']);
      const record = await saved(standIns);
      expect(record?.alert).toMatchObject({
        level: 'low',
        lastBalanceCents: 499,
        lastEventId: event.id,
      });
      // Published, so nothing waits in the outbox.
      expect(record?.outbox).toEqual([]);

      // The key was read with decryption and used as the bearer token.
      const reads = standIns.ssm.requests.filter(
        (r) => r.action === 'GetParameters' && r.names.includes(PARAMS.apiKey),
      );
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.every((r) => r.input.WithDecryption === true)).toBe(true);
      expect(standIns.ngrok.requests.some((r) => r.path === '/credits/balance')).toBe(true);
      expect(standIns.ngrok.requests.every((r) => r.apiKey === API_KEY)).toBe(true);
      // Requests are signed for the right service and region.
      for (const r of standIns.ssm.requests) {
        expect(r.scope).toMatchObject({ service: 'ssm', region: 'us-east-1' });
      }
      expect(publish?.scope).toMatchObject({ service: 'sns', region: 'us-east-1' });
      const signed = standIns.dynamo.requests.filter(
        (r) => r.scope.accessKeyId === FAKE_AWS.accessKeyId,
      );
      expect(signed.length).toBeGreaterThan(0);
      for (const r of signed) {
        expect(r.scope).toMatchObject({ service: 'dynamodb', region: 'us-east-1' });
      }
    });
  });

  it.each([500, 100_000])('balance %i (at or above 500): no Publish', async (balance) => {
    await withStandIns(balance, async (standIns) => {
      const run = await coldInvoke(standIns);
      expectSucceeded(run);
      expect(standIns.sns.requests).toHaveLength(0);
      expect((await saved(standIns))?.alert?.level).toBe('ok');
    });
  });

  it('state persists across cold starts: alert once, stay quiet, then one recovery', async () => {
    await withStandIns(499, async (standIns) => {
      const first = await coldInvoke(standIns);
      expectSucceeded(first);
      expect(standIns.sns.publishes.map((p) => structured(p.message).kind)).toEqual([
        'balance-alert',
      ]);
      expect((await saved(standIns))?.alert?.level).toBe('low');
      // The alerting run: one read, the commit with the alert, and the write marking it sent.
      expect(tableCalls(standIns)).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:PutItem',
      ]);

      // A new process: nothing survives but what the state table holds.
      const ssmCalls = standIns.ssm.requests.length;
      const storeCalls = tableCalls(standIns).length;
      const second = await coldInvoke(standIns);
      expectSucceeded(second);
      expect(standIns.sns.publishes).toHaveLength(1);
      // A quiet run: one settings read, one state read, at most one write.
      expect(standIns.ssm.requests.slice(ssmCalls).map((r) => r.action)).toEqual(['GetParameters']);
      const quiet = tableCalls(standIns).slice(storeCalls);
      expect(quiet.filter((a) => a === 'dynamodb:GetItem')).toHaveLength(1);
      expect(quiet.filter((a) => a === 'dynamodb:PutItem').length).toBeLessThanOrEqual(1);
      expect(quiet.length).toBeLessThanOrEqual(2);

      standIns.ngrok.setAccount(API_KEY, { balanceCents: 2000 });
      const third = await coldInvoke(standIns);
      expectSucceeded(third);
      const publishes = standIns.sns.publishes;
      expect(publishes).toHaveLength(2);
      expect(structured(publishes[1]?.message).kind).toBe('balance-recovered');
      expect(publishes[1]?.subject).toMatch(/recovered/i);
      expect((await saved(standIns))?.alert?.level).toBe('ok');
    });
  });

  it('the same event delivered twice publishes once', async () => {
    await withStandIns(499, async (standIns) => {
      const event = scheduledEvent();
      expectSucceeded(await coldInvoke(standIns, event));
      const redelivery = await coldInvoke(standIns, event);
      expectSucceeded(redelivery);
      expect(standIns.sns.publishes).toHaveLength(1);
      expect(redelivery.report.result).toMatchObject({
        accounts: [{ account: 'main', status: 'duplicate' }],
      });
    });
  });

  it('a test invocation publishes one message marked as a test and saves nothing', async () => {
    await withStandIns(100_000, async (standIns) => {
      const run = await coldInvoke(standIns, { test: true });
      expectSucceeded(run);
      expect(standIns.sns.publishes).toHaveLength(1);
      expect(standIns.sns.publishes[0]?.subject).toMatch(/^\[TEST\] /);
      expect(structured(standIns.sns.publishes[0]?.message)).toMatchObject({ kind: 'test' });
      expect(tableCalls(standIns)).toEqual([]);
      expect(standIns.ssm.requests.filter((r) => r.action === 'PutParameter')).toEqual([]);
      expect(standIns.ngrok.requests).toEqual([]);
    });
  });

  it('a balance alert ends with the command that snoozes it for a day, naming the region and the function', async () => {
    await withStandIns(499, async (standIns) => {
      expectSucceeded(await coldInvoke(standIns));

      const email = emailOf(standIns.sns.publishes[0]?.message);
      expect(email).toMatch(
        new RegExp(
          `aws lambda invoke --region ${FAKE_AWS.region} --function-name ${FAKE_AWS.functionName} ` +
            `--cli-binary-format raw-in-base64-out --payload '\\{"snooze":\\{"account":"main","for":"24h"\\}\\}' /dev/stdout\n`,
        ),
      );
    });
  });

  it('a snooze payload snoozes the account, confirms once, holds the reminder; a bad one is refused', async () => {
    await withStandIns(499, async (standIns) => {
      // Prepare: low for three days, last told two days ago, so a reminder is due.
      const day = 24 * 3_600_000;
      const ago = (days: number) => new Date(Date.now() - days * day).toISOString();
      await seedAlert(standIns, {
        level: 'low',
        reason: 'balance',
        since: ago(3),
        lastNotifiedAt: ago(2),
        lastBalanceCents: 499,
        failures: 0,
      });
      const until = new Date(Date.now() + 2 * day).toISOString().replace(/\.\d{3}Z$/, 'Z');

      // Act: a snooze until a time, then a scheduled run.
      const snooze = await coldInvoke(standIns, {
        snooze: { account: 'main', until, note: 'top-up approved' },
      });
      const run = await coldInvoke(standIns);
      const refused = await coldInvoke(standIns, { snooze: { account: 'mian', until } });

      // Assess
      expectSucceeded(snooze);
      expect(snooze.report.result).toEqual({
        snooze: 'done',
        accounts: [{ account: 'main', result: 'snoozed', until: new Date(until).toISOString() }],
      });
      expectSucceeded(run);
      expect(run.report.result).toMatchObject({
        accounts: [{ account: 'main', notifications: [] }],
      });
      // Refused in the result, not a function error: nothing fails, alarms or changes.
      expectSucceeded(refused);
      expect(refused.report.result).toEqual({
        snooze: 'refused',
        field: 'snooze.account',
        error:
          '"snooze.account": "mian" is not an account of this deployment. Expected one of "main", or "*" for every account.',
      });
      const publishes = standIns.sns.publishes;
      expect(publishes.map((p) => structured(p.message).kind)).toEqual(['snooze-set']);
      expect(publishes[0]?.subject).toMatch(/^ngrok alerts snoozed \(main\): until /);
      expect(emailOf(publishes[0]?.message)).toContain('Note: "top-up approved".');
      expect((await saved(standIns))?.alert?.snooze).toMatchObject({
        until: new Date(until).toISOString(),
        note: 'top-up approved',
      });
    });
  });

  it('a check payload runs the account once and says what it found; topUp is refused with a reason', async () => {
    await withStandIns(499, async (standIns) => {
      // Act: the check in both forms (the second finds the alert already sent), then the rest.
      const check = await coldInvoke(standIns, { check: { account: 'main' } });
      const again = await coldInvoke(standIns, { check: 'main' });
      const unknown = await coldInvoke(standIns, { check: { account: 'mian' } });
      const topUp = await coldInvoke(standIns, { topUp: 'main' });

      // Assess
      expectSucceeded(check);
      expect(check.report.result).toEqual({
        check: 'done',
        account: 'main',
        status: 'alerting',
        balanceCents: 499,
        level: 'low',
        sent: ['balance-alert'],
        summary: 'main: balance $4.99, level low; sent balance-alert.',
      });
      expectSucceeded(again);
      expect(again.report.result).toMatchObject({ check: 'done', level: 'low', sent: [] });
      // Refused in the result, not a function error, and nothing ran.
      expectSucceeded(unknown);
      expect(unknown.report.result).toMatchObject({ check: 'refused', field: 'check.account' });
      expectSucceeded(topUp);
      expect(topUp.report.result).toMatchObject({ topUp: 'refused', field: 'topUp.account' });
      expect(standIns.sns.publishes.map((p) => structured(p.message).kind)).toEqual([
        'balance-alert',
      ]);
    });
  });

  it('the first run of a new week publishes one weekly digest as information; a redelivery does not', async () => {
    await withStandIns(5000, async (standIns) => {
      // Prepare: the state a run in an earlier week left.
      await seedAlert(standIns, {
        level: 'ok',
        reason: 'balance',
        since: '2020-01-01T00:00:00.000Z',
        failures: 0,
        week: {
          week: '2020-01-06',
          startCents: 6000,
          lastCents: 5200,
          spentCents: 800,
          addedCents: 0,
          alerts: 1,
          topUps: 0,
        },
      });
      const event = scheduledEvent();

      // Act
      const first = await coldInvoke(standIns, event);
      const redelivered = await coldInvoke(standIns, event);
      const next = await coldInvoke(standIns);

      // Assess
      for (const run of [first, redelivered, next]) expectSucceeded(run);
      expect(first.report.result).toMatchObject({ digest: true });
      const publishes = standIns.sns.publishes;
      expect(publishes).toHaveLength(1);
      expect(structured(publishes[0]?.message)).toMatchObject({
        kind: 'weekly-digest',
        event: 'info',
        severity: 'info',
      });
      expect(publishes[0]?.subject).toMatch(
        /^Weekly summary of ngrok credits \(main\): 2020-01-06 to /,
      );
      expect(emailOf(publishes[0]?.message)).toContain(
        'main: $50.00 now (ok), $60.00 a week ago. Spent about $10.00; 1 alert(s), 0 top-up(s) this week.',
      );
      expect((await saved(standIns))?.alert?.week?.week).not.toBe('2020-01-06');
    });
  });

  it('the IAM policy of its role allows every SSM, SNS and state table call it makes, and no more', async () => {
    // One alerting and one recovering run of its own, so the check never runs on nothing.
    await withStandIns([499, 2000], async (standIns) => {
      expectSucceeded(await coldInvoke(standIns));
      expectSucceeded(await coldInvoke(standIns));
      expect(standIns.sns.publishes).toHaveLength(2);
    });

    const refs: Record<string, string> = {};
    if (synth.topicRefId) refs[synth.topicRefId] = FAKE_AWS.topicArn;
    const tableId = Object.entries(synth.template.Resources).find(
      ([, r]) => r.Type === 'AWS::DynamoDB::Table',
    )?.[0];
    expect(tableId).toBeDefined();
    refs[`${tableId}.Arn`] = STATE_TABLE_ARN;
    const statements: PolicyStatement[] = rolePolicies(synth.template, synth.roleId, refs).flatMap(
      (p) => p.statements,
    );
    expect(statements.length).toBeGreaterThan(0);

    const checked = new Set<string>();
    const denied: string[] = [];
    const made = allAwsCalls.filter((c) => /^(ssm|sns|dynamodb):/.test(c.action));
    for (const call of made) {
      for (const resource of call.resources) {
        const arn = call.action.startsWith('ssm:') ? ssmParameterArn(resource) : resource;
        checked.add(`${call.action} ${arn}`);
        if (!isAllowed(statements, call.action, arn)) denied.push(`${call.action} on ${arn}`);
      }
    }
    expect(denied).toEqual([]);
    const actions = new Set(allAwsCalls.map((c) => c.action));
    // The state is in the table now: SSM is only read, and the table gets item reads and writes.
    expect([...actions].sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'sns:Publish',
      'ssm:GetParameters',
    ]);
    expect(checked).toContain(`ssm:GetParameters ${ssmParameterArn(PARAMS.apiKey)}`);
    expect(checked).toContain(`sns:Publish ${FAKE_AWS.topicArn}`);
    expect(
      new Set(
        allAwsCalls.filter((c) => c.action.startsWith('dynamodb:')).flatMap((c) => c.resources),
      ),
    ).toEqual(new Set([STATE_TABLE_ARN]));

    // The check is not vacuous: the policy is least-privilege where it matters.
    expect(isAllowed(statements, 'ssm:PutParameter', ssmParameterArn(PARAMS.apiKey))).toBe(false);
    expect(isAllowed(statements, 'ssm:PutParameter', ssmParameterArn(PARAMS.threshold))).toBe(
      false,
    );
    expect(isAllowed(statements, 'ssm:GetParameters', ssmParameterArn('/other/secret'))).toBe(
      false,
    );
    expect(
      isAllowed(statements, 'sns:Publish', 'arn:aws:sns:us-east-1:123456789012:other-topic'),
    ).toBe(false);
    for (const action of ['DeleteItem', 'UpdateItem', 'Scan', 'Query', 'DeleteTable']) {
      expect(isAllowed(statements, `dynamodb:${action}`, STATE_TABLE_ARN)).toBe(false);
    }
    expect(isAllowed(statements, 'dynamodb:GetItem', `${STATE_TABLE_ARN}-other`)).toBe(false);
  });
});
