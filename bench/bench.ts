/**
 * `npm run bench`: measures the deployable bundle against a minimal baseline built the same
 * way, then how a run scales with the number of accounts. Prints numbers; asserts nothing.
 *
 * 1. Synthesizes the app into a temporary directory and takes the monitor's bundle; bundles
 *    bench/baseline-handler.ts with the stack's esbuild settings.
 * 2. Size (raw and gzip), cold import time over fresh `node` processes (alternating the
 *    two bundles so both see the same noise), and peak RSS of one invocation against the
 *    local stand-ins.
 * 3. Runs of 1, 10 and 100 accounts against the stand-ins (ngrok, SSM, SNS and the state
 *    table on dynalite) with latency injected on every call: wall time and calls per run.
 * 4. AWS calls and time per run at schedule spacing, quiet and alerting (runs.ts).
 * 5. The monthly CloudWatch cost of the synthesized template, default and opt-in.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { build } from 'esbuild';
import { DEFAULTS } from '../lambda/config/contract.ts';
import { accountParameterNames } from '../lambda/config/parameter-names.ts';
import { ESM_BUNDLING } from '../scripts/bundling.ts';
import { monthlyCost, usd } from '../test/support/cost.ts';
import {
  FAKE_AWS,
  REPO_ROOT,
  type RunnerReport,
  rolePolicies,
  runBundle,
  STATE_TABLE_NAME,
  type StandIns,
  type SynthResult,
  startStandIns,
  synthesize,
  writeRunner,
} from '../test/support/stand-ins/index.ts';
import { synthesize as synthesizeInProcess } from '../test/support/synth.ts';
import { printRuns, printValidationImport } from './runs.ts';

const COLD_IMPORT_RUNS = 25;
const RSS_RUNS = 5;
const ACCOUNT_COUNTS = [1, 10, 100] as const;
const LATENCY_MS = 300;
const IMPORT_RATIO_TARGET = 1.05;
/** IAM quotas: managed policy document, and all inline policies of one role together. */
const MANAGED_POLICY_MAX_CHARS = 6_144;
const INLINE_ROLE_POLICIES_MAX_CHARS = 10_240;

const work = mkdtempSync(path.join(tmpdir(), 'ngrok-bench-'));
const home = path.join(work, 'home');
mkdirSync(home);
const runner = writeRunner(work);

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log('ngrok-balance-alert benchmark');
  console.log(`node ${process.version}, ${availableParallelism()} CPU(s) (${cpu.trim()})`);
  console.log(
    'Numbers are medians (p90 where shown) from this one run, compared with a baseline ' +
      'measured in the same run; compare ratios, not absolute times, across machines.\n',
  );

  const started = performance.now();
  const project = await synthesize(path.join(work, 'synth-default'), {
    emails: 'a@example.com',
    thresholdCents: '500',
  });
  const baseline = await bundleBaseline(path.join(work, 'baseline'));
  console.log(`synth ${ms(project.synthMs)} (fresh, into a temporary directory)\n`);

  printSizes(project.bundle, baseline);
  await printColdImport(project.bundle, baseline);
  await printPeakRss(project.bundle, baseline);
  await printScale(project);
  await printRuns();
  await printValidationImport(work);
  printCosts();
  console.log(`\ntotal ${ms(performance.now() - started)}`);
}

/** The package's bundling settings (scripts/bundling.ts), applied to the baseline. */
async function bundleBaseline(outdir: string): Promise<string> {
  const outfile = path.join(outdir, 'index.mjs');
  await build({
    entryPoints: [path.join(REPO_ROOT, 'bench', 'baseline-handler.ts')],
    outfile,
    ...ESM_BUNDLING,
    absWorkingDir: REPO_ROOT,
    logLevel: 'warning',
  });
  return outfile;
}

function printSizes(projectBundle: string, baselineBundle: string): void {
  console.log('Bundle size');
  const rows = [
    ['', 'bytes', 'gzip bytes'],
    ...[
      ['project', projectBundle],
      ['baseline', baselineBundle],
    ].map(([name, file]) => {
      const bytes = readFileSync(file as string);
      return [name as string, int(bytes.length), int(gzipSync(bytes).length)];
    }),
  ];
  const p = readFileSync(projectBundle).length;
  const b = readFileSync(baselineBundle).length;
  rows.push(['project/baseline', ratio(p / b), '']);
  table(rows);
  console.log('');
}

async function printColdImport(projectBundle: string, baselineBundle: string): Promise<void> {
  const imports = { project: [] as number[], baseline: [] as number[] };
  const once = async (bundle: string) => {
    const run = await runBundle({ runner, bundle, mode: 'import', env: {}, home });
    if (run.report.error || run.report.importMs === undefined) {
      throw new Error(`import failed: ${run.report.error?.message ?? 'no timing'}`);
    }
    return run.report.importMs;
  };
  // One discarded round warms the file cache for both.
  await once(projectBundle);
  await once(baselineBundle);
  for (let i = 0; i < COLD_IMPORT_RUNS; i++) {
    // Alternate which goes first so drift affects both equally.
    const order =
      i % 2 === 0 ? (['project', 'baseline'] as const) : (['baseline', 'project'] as const);
    for (const which of order) {
      imports[which].push(await once(which === 'project' ? projectBundle : baselineBundle));
    }
  }
  const pm = median(imports.project);
  const bm = median(imports.baseline);
  const verdict = pm / bm <= IMPORT_RATIO_TARGET ? 'met' : 'NOT met';
  console.log(
    `Cold import: await import(bundle) in ${COLD_IMPORT_RUNS} fresh node processes each, alternating`,
  );
  table([
    ['', 'median', 'p90', 'min'],
    ['project', ms(pm), ms(p90(imports.project)), ms(Math.min(...imports.project))],
    ['baseline', ms(bm), ms(p90(imports.baseline)), ms(Math.min(...imports.baseline))],
    ['project/baseline', ratio(pm / bm), ratio(p90(imports.project) / p90(imports.baseline)), ''],
  ]);
  console.log(`median ratio target <= ${IMPORT_RATIO_TARGET}: ${verdict}\n`);
}

async function printPeakRss(projectBundle: string, baselineBundle: string): Promise<void> {
  const standIns = await startStandIns();
  const key = 'bench-key-main';
  const names = accountParameterNames(DEFAULTS.accountName);
  const reports = { project: [] as RunnerReport[], baseline: [] as RunnerReport[] };
  try {
    for (let i = 0; i < RSS_RUNS; i++) {
      for (const which of ['project', 'baseline'] as const) {
        // Same work for both: first run, balance below the threshold, one publish, one save.
        standIns.ssm.put(DEFAULTS.tokenParameterName, key, 'SecureString');
        standIns.ssm.put(names.threshold, '500');
        await standIns.dynamo.client.send(
          new DeleteItemCommand({
            TableName: STATE_TABLE_NAME,
            Key: { pk: { S: `account#${DEFAULTS.accountName}` } },
          }),
        );
        standIns.ngrok.setAccount(key, { balanceCents: 499 });
        const before = standIns.sns.publishes.length;
        const run = await runBundle({
          runner,
          bundle: which === 'project' ? projectBundle : baselineBundle,
          env: standIns.env(),
          event: { id: `bench-rss-${which}-${i}`, 'detail-type': 'Scheduled Event' },
          home,
        });
        if (run.report.error)
          throw new Error(`${which} invocation failed: ${run.report.error.message}`);
        if (standIns.sns.publishes.length !== before + 1) {
          throw new Error(`${which} did not publish exactly once`);
        }
        reports[which].push(run.report);
      }
    }
  } finally {
    await standIns.close();
  }
  const rss = (r: RunnerReport[]) => median(r.map((x) => x.maxRssMb));
  const invoke = (r: RunnerReport[]) => median(r.map((x) => x.invokeMs ?? Number.NaN));
  console.log(
    `Peak RSS: process.resourceUsage().maxRSS after import + one alerting invocation against the stand-ins (median of ${RSS_RUNS} processes)`,
  );
  table([
    ['', 'peak RSS', 'invocation'],
    ['project', `${rss(reports.project).toFixed(1)} MB`, ms(invoke(reports.project))],
    ['baseline', `${rss(reports.baseline).toFixed(1)} MB`, ms(invoke(reports.baseline))],
    ['project/baseline', ratio(rss(reports.project) / rss(reports.baseline)), ''],
  ]);
  console.log('');
}

interface ScaleRow {
  readonly accounts: number;
  readonly run: string;
  readonly wallMs: number;
  readonly ssmGets: number;
  readonly dynamoGets: number;
  readonly dynamoPuts: number;
  readonly ngrok: number;
  readonly publishes: number;
  readonly error?: string;
}

async function printScale(defaultSynth: SynthResult): Promise<void> {
  console.log(
    `Scale: accounts checked per run, ${LATENCY_MS} ms injected on every ngrok, SSM, SNS and DynamoDB call`,
  );
  console.log(
    'Every account starts below its threshold (balance 500, threshold 1000): the first run ' +
      'alerts and saves state for each; the second run finds nothing new.',
  );
  const rows: ScaleRow[] = [];
  const notes: string[] = [];
  let timeoutSeconds = defaultSynth.timeoutSeconds;
  for (const count of ACCOUNT_COUNTS) {
    const accounts = Array.from({ length: count }, (_, i) => {
      const name = `acct-${String(i + 1).padStart(3, '0')}`;
      return {
        name,
        tokenParameterName: `/ngrok-balance-alert/${name}/api-key`,
        thresholdCents: 1000,
      };
    });
    let synth: SynthResult | undefined;
    try {
      synth = await synthesize(path.join(work, `synth-${count}`), {
        emails: 'a@example.com',
        accounts: JSON.stringify(accounts),
      });
      timeoutSeconds = synth.timeoutSeconds;
      notes.push(iamSizeNote(count, synth));
    } catch (error) {
      notes.push(
        `${count} accounts: synth with -c accounts failed (${firstLine(error)}); ran runMonitor ` +
          'from lambda/run/monitor.ts in-process with real SDK clients pointed at the stand-ins instead.',
      );
    }

    const standIns = await startStandIns();
    try {
      for (const a of accounts) {
        const key = `bench-key-${a.name}`;
        const names = accountParameterNames(a.name);
        standIns.ssm.put(a.tokenParameterName, key, 'SecureString');
        standIns.ssm.put(names.threshold, String(a.thresholdCents));
        standIns.ngrok.setAccount(key, { balanceCents: 500 });
      }
      standIns.setLatency(LATENCY_MS);
      for (const run of ['first', 'second'] as const) {
        const before = counts(standIns);
        const eventId = `bench-scale-${count}-${run}`;
        const outcome = synth
          ? await invokeBundle(synth, standIns, eventId, timeoutSeconds)
          : await invokeInProcess(accounts, standIns, eventId, timeoutSeconds);
        const after = counts(standIns);
        rows.push({
          accounts: count,
          run,
          wallMs: outcome.wallMs,
          ssmGets: after.gets - before.gets,
          dynamoGets: after.dynamoGets - before.dynamoGets,
          dynamoPuts: after.dynamoPuts - before.dynamoPuts,
          ngrok: after.ngrok - before.ngrok,
          publishes: after.publishes - before.publishes,
          error: outcome.error,
        });
      }
    } finally {
      await standIns.close();
    }
  }

  table([
    [
      'accounts',
      'run',
      'wall',
      'SSM calls',
      'DynamoDB calls (Get+Put)',
      'ngrok calls',
      'SNS publishes',
      '',
    ],
    ...rows.map((r) => [
      String(r.accounts),
      r.run,
      seconds(r.wallMs),
      String(r.ssmGets),
      `${r.dynamoGets + r.dynamoPuts} (${r.dynamoGets}+${r.dynamoPuts})`,
      String(r.ngrok),
      String(r.publishes),
      r.error
        ? `FAILED: ${r.error.slice(0, 120)}`
        : r.accounts === 100
          ? `function timeout ${timeoutSeconds} s`
          : '',
    ]),
  ]);
  console.log('wall = the handler call inside the child process (import excluded).');
  console.log('\nNotes (IAM policy sizes are of the resolved documents, whitespace removed):');
  for (const note of notes) console.log(`  ${note}`);
}

function iamSizeNote(count: number, synth: SynthResult): string {
  const refs: Record<string, string> = {};
  if (synth.topicRefId) refs[synth.topicRefId] = FAKE_AWS.topicArn;
  const policies = rolePolicies(synth.template, synth.roleId, refs);
  const inline = policies.filter((p) => p.type !== 'AWS::IAM::ManagedPolicy');
  const managed = policies.filter((p) => p.type === 'AWS::IAM::ManagedPolicy');
  const inlineChars = inline.reduce((sum, p) => sum + p.size, 0);
  const largestManaged = Math.max(0, ...managed.map((p) => p.size));
  const over =
    inlineChars > INLINE_ROLE_POLICIES_MAX_CHARS || largestManaged > MANAGED_POLICY_MAX_CHARS;
  return (
    `${count} account${count === 1 ? '' : 's'}: inline ${int(inlineChars)} chars (quota ${int(INLINE_ROLE_POLICIES_MAX_CHARS)} per role), ` +
    `${managed.length} managed overflow polic${managed.length === 1 ? 'y' : 'ies'}` +
    (managed.length > 0
      ? `, largest ${int(largestManaged)} chars (quota ${int(MANAGED_POLICY_MAX_CHARS)})`
      : '') +
    (over ? ' -> OVER QUOTA: CloudFormation would reject this role policy' : '')
  );
}

function counts(standIns: StandIns) {
  const calls = standIns.awsCalls();
  return {
    gets: standIns.ssm.requests.filter((r) => r.action === 'GetParameters').length,
    dynamoGets: calls.filter((c) => c.action === 'dynamodb:GetItem').length,
    dynamoPuts: calls.filter((c) => c.action === 'dynamodb:PutItem').length,
    ngrok: standIns.ngrok.requests.length,
    publishes: standIns.sns.publishes.length,
  };
}

async function invokeBundle(
  synth: SynthResult,
  standIns: StandIns,
  eventId: string,
  timeoutSeconds: number,
): Promise<{ wallMs: number; error?: string }> {
  const run = await runBundle({
    runner,
    bundle: synth.bundle,
    env: standIns.env(),
    event: { id: eventId, 'detail-type': 'Scheduled Event', source: 'aws.events' },
    remainingMs: timeoutSeconds * 1000,
    home,
    timeoutMs: (timeoutSeconds + 30) * 1000,
  });
  return { wallMs: run.report.invokeMs ?? run.wallMs, error: run.report.error?.message };
}

/** Fallback when synth cannot take `-c accounts`: the same run, in this process. */
async function invokeInProcess(
  accounts: readonly { name: string; tokenParameterName: string; thresholdCents: number }[],
  standIns: StandIns,
  eventId: string,
  timeoutSeconds: number,
): Promise<{ wallMs: number; error?: string }> {
  const { runMonitor } = await import('../lambda/run/monitor.ts');
  const { createLogger } = await import('../lambda/common/log.ts');
  const { DynamoStore } = await import('../lambda/store/dynamo-store.ts');
  const credentials = {
    accessKeyId: FAKE_AWS.accessKeyId,
    secretAccessKey: FAKE_AWS.secretAccessKey,
  };
  const ssm = new SSMClient({ region: FAKE_AWS.region, endpoint: standIns.ssm.url, credentials });
  const sns = new SNSClient({ region: FAKE_AWS.region, endpoint: standIns.sns.url, credentials });
  // The function's credentials, so the stand-ins count these calls as the function's.
  const dynamodb = new DynamoDBClient({
    region: FAKE_AWS.region,
    endpoint: standIns.dynamo.endpoint,
    credentials,
  });
  const config = {
    accounts: accounts.map((a) => {
      const names = accountParameterNames(a.name);
      return {
        name: a.name,
        tokenParameterName: a.tokenParameterName,
        thresholdParameterName: names.threshold,
        thresholdCents: a.thresholdCents,
      };
    }),
    renotifyHours: DEFAULTS.renotifyHours,
    failureAlertAfter: DEFAULTS.failureAlertAfter,
    forecastDays: DEFAULTS.forecastDays,
    runwayAlertDays: DEFAULTS.runwayAlertDays,
    usageRefreshHours: DEFAULTS.usageRefreshHours,
    spikeFactor: DEFAULTS.spikeFactor,
    spikeMinCentsPerHour: DEFAULTS.spikeMinCentsPerHour,
    metrics: DEFAULTS.metrics,
    digest: DEFAULTS.digest,
    digestDay: DEFAULTS.digestDay,
    digestHourUtc: DEFAULTS.digestHourUtc,
    expiryWarningDays: DEFAULTS.expiryWarningDays,
    deployment: 'NgrokBalanceAlert',
  };
  const startedAt = performance.now();
  const deadline = Date.now() + timeoutSeconds * 1000;
  try {
    await runMonitor(
      config,
      {
        ssm,
        sns,
        topicArn: FAKE_AWS.topicArn,
        store: new DynamoStore(dynamodb, STATE_TABLE_NAME),
        log: createLogger(() => {}),
        now: () => new Date(),
        remainingTimeMs: () => deadline - Date.now(),
        ngrok: { baseUrl: standIns.ngrok.url },
      },
      { eventId },
    );
    return { wallMs: performance.now() - startedAt };
  } catch (error) {
    return { wallMs: performance.now() - startedAt, error: firstLine(error) };
  } finally {
    ssm.destroy();
    sns.destroy();
    dynamodb.destroy();
  }
}

// ---------------------------------------------------------------------------------------
// Formatting and statistics

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank 90th percentile. */
function p90(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.9) - 1)] as number;
}

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

function seconds(value: number): string {
  return `${(value / 1000).toFixed(2)} s`;
}

function ratio(value: number): string {
  return `${value.toFixed(3)}x`;
}

function int(value: number): string {
  return value.toLocaleString('en-US');
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function table(rows: readonly (readonly string[])[]): void {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  for (const row of rows) {
    console.log(
      `  ${row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd()}`,
    );
  }
}

/** The README's cost table, computed from synthesized templates (test/cost.test.ts checks it). */
function printCosts(): void {
  console.log('\nMonthly CloudWatch cost (us-east-1 list prices), from the synthesized template');
  const variants = {
    default: {},
    'metrics=per-account': { metrics: 'per-account' },
    'dashboard=true': { dashboard: 'true' },
    both: { metrics: 'per-account', dashboard: 'true' },
  };
  const rows = Object.entries(variants).map(([name, context]) => [
    name,
    ...ACCOUNT_COUNTS.map((count) => {
      const { json, config } = synthesizeInProcess({
        ...context,
        emails: 'a@example.com',
        accounts: JSON.stringify(
          Array.from({ length: count }, (_, i) => ({
            name: `a${i}`,
            tokenParameterName: `/k/a${i}`,
            thresholdCents: 1000,
          })),
        ),
      });
      const cost = monthlyCost(json, { mode: config.props.metrics ?? 'none', accounts: count });
      return `${usd(cost.usd)} (${cost.alarmMetrics} alarm metrics, ${cost.customMetrics} custom, ${cost.dashboards} dashboards)`;
    }),
  ]);
  table([['deployment', ...ACCOUNT_COUNTS.map((n) => `${n} account(s)`)], ...rows]);
}
