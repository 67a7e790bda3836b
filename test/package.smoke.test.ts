/**
 * The package as a consumer gets it: `npm pack`, the tarball unpacked into a fresh plain
 * JavaScript CDK app that has only aws-cdk-lib, constructs (and cdk-nag, to check our
 * findings) besides it, synthesized by `node app.js`. The monitor's code is then taken from
 * that app's cloud assembly and run against the local stand-ins. Nothing here imports the
 * sources: esbuild, tsx and TypeScript are out of reach of the app's module resolution.
 *
 * A second app installs, from the npm registry, exactly the oldest aws-cdk-lib and
 * constructs the peer ranges admit, and synthesizes with them: the ranges are tested, not
 * assumed. TypeScript consumers, `require` and `import` alike, are type-checked against
 * the packed declarations.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConsumerApp } from './support/consumer-app.ts';
import {
  type CfnTemplate,
  FAKE_AWS,
  findMonitorFunction,
  REPO_ROOT,
  rolePolicies,
  runBundle,
  type StandIns,
  startStandIns,
  writeRunner,
} from './support/stand-ins/index.ts';

const API_KEY = 'ngrok-package-key-NEVER-LOG-1234';
const TOKEN_PARAMETER = '/acme/ngrok/api-key';
/** The consumer's own topic in the second stack. */
const TEAM_TOPIC_NAME = 'team-alerts';
const TEAM_TOPIC_ARN = `arn:aws:sns:${FAKE_AWS.region}:${FAKE_AWS.accountId}:${TEAM_TOPIC_NAME}`;

/** The consumer's app: CommonJS, as `cdk init app --language javascript` makes it. */
const APP_JS = `const { App, Stack, Validations } = require('aws-cdk-lib');
const sns = require('aws-cdk-lib/aws-sns');
const { AwsSolutionsChecks } = require('cdk-nag');
const { NgrokBalanceAlert } = require('ngrok-balance-alert');

const app = new App({ outdir: process.argv[2] });
const env = { account: '${FAKE_AWS.accountId}', region: '${FAKE_AWS.region}' };
const own = new Stack(app, 'OwnTopic', { env });
new NgrokBalanceAlert(own, 'NgrokCredits', {
  emails: ['oncall@example.com'],
  thresholdCents: 2000,
  tokenParameterName: '${TOKEN_PARAMETER}',
});
const theirs = new Stack(app, 'TheirTopic', { env });
const topic = new sns.Topic(theirs, 'Team', { topicName: '${TEAM_TOPIC_NAME}', enforceSSL: true });
new NgrokBalanceAlert(theirs, 'NgrokCredits', {
  topic,
  thresholdCents: 2000,
  tokenParameterName: '${TOKEN_PARAMETER}',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
`;

/** The same construct through \`import\`, as an ESM app would use it. */
const APP_MJS = `import { App, Stack } from 'aws-cdk-lib';
import { NgrokBalanceAlert } from 'ngrok-balance-alert';
const app = new App({ outdir: process.argv[2] });
new NgrokBalanceAlert(new Stack(app, 'Esm'), 'NgrokCredits', { emails: ['oncall@example.com'] });
app.synth();
`;

/** A TypeScript consumer of the types: the construct, its props, a subclass, ConfigError. */
const APP_TS = `import { App, Stack } from 'aws-cdk-lib';
import {
  type ChannelFunctionName,
  ConfigError,
  NgrokBalanceAlert,
  type NgrokBalanceAlertProps,
} from 'ngrok-balance-alert';

const props: NgrokBalanceAlertProps = { emails: ['oncall@example.com'], accounts: [{ name: 'prod' }] };
const stack = new Stack(new App(), 'Typed');
const monitor: NgrokBalanceAlert = new NgrokBalanceAlert(stack, 'NgrokCredits', props);
const slack: ChannelFunctionName = 'slack';
export const arns = [
  monitor.channelFunctions[slack]?.functionArn,
  monitor.alarms.noSuccessfulRun.alarmArn,
  monitor.stateTable.tableName,
];
export class Mine extends NgrokBalanceAlert {}
try {
  new NgrokBalanceAlert(stack, 'Nobody', {});
} catch (error) {
  if (error instanceof ConfigError) console.log(error.message);
}
// @ts-expect-error a number in quotes is not a number
new NgrokBalanceAlert(stack, 'Quoted', { thresholdCents: '2000' });
`;

/** The lowest version a caret range such as "^2.252.0" admits. */
function lowest(range: string | undefined): string {
  const match = /^\^(\d+\.\d+\.\d+)$/.exec(range ?? '');
  if (!match?.[1]) throw new Error(`expected a caret range, got ${range}`);
  return match[1];
}

let work: string;
let tarball: string;
let appDir: string;
let outdir: string;
let runner: string;
let tarballFiles: string[];

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  const consumer = makeConsumerApp('ngrok-package-smoke-', [
    'aws-cdk-lib',
    'constructs',
    'cdk-nag',
  ]);
  ({ work, appDir } = consumer);
  tarballFiles = [...consumer.tarballFiles];
  tarball = path.join(work, consumer.tarball);
  writeFileSync(path.join(appDir, 'app.js'), APP_JS);
  writeFileSync(path.join(appDir, 'app.mjs'), APP_MJS);
  outdir = path.join(work, 'cdk.out');
  // Throws on any cdk-nag finding: the plugin fails synth with its report.
  run(process.execPath, ['app.js', outdir], appDir);
  runner = writeRunner(work);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function template(stack: string): CfnTemplate {
  return JSON.parse(readFileSync(path.join(outdir, `${stack}.template.json`), 'utf8'));
}

/** The parts of an AWS::Lambda::Function's properties read here. */
interface FunctionProperties {
  readonly Code: { readonly S3Key: string };
  readonly Environment: { readonly Variables: Record<string, unknown> };
  readonly Role: { readonly 'Fn::GetAtt': [string, string] };
}

/** The monitor's index.mjs: its S3 key names the asset in the stack's asset manifest. */
function bundleOf(stack: string): string {
  const { resource } = findMonitorFunction(template(stack));
  const { Code } = resource.Properties as unknown as FunctionProperties;
  const key = Code.S3Key;
  const manifest = JSON.parse(readFileSync(path.join(outdir, `${stack}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string } }>;
  };
  const asset = manifest.files[key.replace(/\.zip$/, '')];
  if (!asset) throw new Error(`no asset for ${key} in ${stack}.assets.json`);
  return path.join(outdir, asset.source.path, 'index.mjs');
}

async function lowBalanceRun(stack: string, topicArn: string) {
  const standIns: StandIns = await startStandIns({ topicArn });
  try {
    standIns.ssm.put(TOKEN_PARAMETER, API_KEY, 'SecureString');
    standIns.ssm.put('/ngrok-balance-alert/main/threshold-cents', '2000');
    standIns.ssm.put('/ngrok-balance-alert/main/state', '{}');
    standIns.ngrok.setAccount(API_KEY, { balanceCents: 1999 });
    const home = path.join(work, `home-${stack}`);
    mkdirSync(home, { recursive: true });
    const event = { id: `package-${stack}`, 'detail-type': 'Scheduled Event' };
    const result = await runBundle({
      runner,
      bundle: bundleOf(stack),
      env: standIns.env(),
      event,
      home,
    });
    return { result, publishes: standIns.sns.publishes };
  } finally {
    await standIns.close();
  }
}

describe('the packed package', () => {
  it('ships the built library, declarations and Lambda bundles, and no sources', () => {
    expect(tarballFiles).toEqual(
      expect.arrayContaining([
        'dist/index.cjs',
        'dist/index.mjs',
        'dist/types/lib/index.d.ts',
        'dist/lambda/handler/index.mjs',
        'dist/lambda/slack-webhook/index.mjs',
        'dist/cli.mjs',
        'package.json',
        'CHANGELOG.md',
      ]),
    );
    expect(tarballFiles.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(tarballFiles.filter((f) => f.startsWith('test/') || f.startsWith('lambda/'))).toEqual(
      [],
    );
  });

  it('ships one set of declarations, with a CommonJS entry that refers to it', () => {
    expect(tarballFiles).toContain('dist/index.d.cts');
    expect(tarballFiles.filter((f) => f.startsWith('dist/types-cjs/'))).toEqual([]);
    const declarations = tarballFiles.filter((f) => /\.d\.c?ts$/.test(f));
    const names = declarations.map((f) => f.replace(/^dist\/types\//, ''));
    expect(new Set(names).size).toBe(names.length);
    const manifest = JSON.parse(
      readFileSync(
        path.join(appDir, 'node_modules', 'ngrok-balance-alert', 'package.json'),
        'utf8',
      ),
    ) as { exports: Record<string, Record<string, { types: string }>> };
    expect(manifest.exports['.']?.import?.types).toBe('./dist/types/lib/index.d.ts');
    expect(manifest.exports['.']?.require?.types).toBe('./dist/index.d.cts');
  });

  // The strictest resolution for each format: a CommonJS file under node16 may not import
  // ES module declarations at all, so this fails without dist/index.d.cts.
  it.each([
    ['commonjs', 'node16'],
    ['module', 'nodenext'],
  ])('type-checks a TypeScript app of "type": "%s" under module %s', (type, mode) => {
    const dir = path.join(work, `ts-${type}-${mode}`);
    mkdirSync(dir, { recursive: true });
    symlinkSync(path.join(appDir, 'node_modules'), path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type }));
    writeFileSync(path.join(dir, 'app.ts'), APP_TS);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: mode,
          moduleResolution: mode,
          target: 'es2022',
          strict: true,
          noEmit: true,
          // aws-cdk-lib's own declarations take most of a minute to check. A broken
          // declaration of ours still fails: its uses below (the @ts-expect-error, the
          // annotations) would be unchecked and the directive reported as unused.
          skipLibCheck: true,
          types: [],
        },
        files: ['app.ts'],
      }),
    );
    const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    const ours = result.stdout
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.includes('node_modules/aws-cdk-lib/'));
    expect(ours).toEqual([]);
  });

  it('runs the check command without tsx or TypeScript', () => {
    const help = run(
      process.execPath,
      [path.join(appDir, 'node_modules', 'ngrok-balance-alert', 'dist', 'cli.mjs'), '--help'],
      appDir,
    );
    expect(help).toContain('Usage: ngrok-balance-alert check');
  });

  it('loads through `import` as well as `require`', () => {
    const esmOut = path.join(work, 'cdk.out.esm');
    run(process.execPath, ['app.mjs', esmOut], appDir);
    expect(
      findMonitorFunction(JSON.parse(readFileSync(path.join(esmOut, 'Esm.template.json'), 'utf8')))
        .id,
    ).toBeTruthy();
  });
});

describe("a consumer's app with the construct", () => {
  it('publishes exactly one alert to the topic the construct created for a low balance', async () => {
    const { result, publishes } = await lowBalanceRun('OwnTopic', FAKE_AWS.topicArn);
    expect(result.report.error, result.stderr).toBeUndefined();
    expect(publishes).toHaveLength(1);
    expect(publishes[0]?.topicArn).toBe(FAKE_AWS.topicArn);
    expect(publishes[0]?.subject).toContain('$19.99');
    const topics = Object.values(template('OwnTopic').Resources).filter(
      (r) => r.Type === 'AWS::SNS::Topic',
    );
    expect(topics).toHaveLength(1);
  });

  it('with `topic` given, creates no topic and alerts once on that one, allowed exactly sns:Publish', async () => {
    const json = template('TheirTopic');
    const topics = Object.entries(json.Resources).filter(([, r]) => r.Type === 'AWS::SNS::Topic');
    expect(topics.map(([, r]) => r.Properties?.TopicName)).toEqual([TEAM_TOPIC_NAME]);
    const [teamId] = topics[0] as [string, unknown];
    const { resource } = findMonitorFunction(json);
    const { Environment, Role } = resource.Properties as unknown as FunctionProperties;
    expect(Environment.Variables.TOPIC_ARN).toEqual({ Ref: teamId });
    const [roleId] = Role['Fn::GetAtt'];
    const snsStatements = rolePolicies(json, roleId, { [teamId]: TEAM_TOPIC_ARN })
      .flatMap((p) => p.statements)
      .filter((s) => [s.Action].flat().some((a) => String(a).startsWith('sns:')));
    expect(snsStatements.map((s) => [s.Action, s.Resource])).toEqual([
      ['sns:Publish', TEAM_TOPIC_ARN],
    ]);

    const { result, publishes } = await lowBalanceRun('TheirTopic', TEAM_TOPIC_ARN);
    expect(result.report.error, result.stderr).toBeUndefined();
    expect(publishes).toHaveLength(1);
    expect(publishes[0]?.topicArn).toBe(TEAM_TOPIC_ARN);
  });
});

describe('the oldest aws-cdk-lib and constructs the peer ranges admit', () => {
  const { peerDependencies } = JSON.parse(
    readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'),
  ) as { peerDependencies: Record<string, string> };
  const cdk = lowest(peerDependencies['aws-cdk-lib']);
  const constructs = lowest(peerDependencies.constructs);
  let oldest: string;

  beforeAll(() => {
    // Exactly those versions, from the registry, with the packed tarball: npm checks the
    // peer ranges as it would for a consumer.
    oldest = path.join(work, 'oldest');
    mkdirSync(oldest, { recursive: true });
    writeFileSync(path.join(oldest, 'package.json'), '{ "name": "oldest", "private": true }\n');
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--no-package-lock',
        '--save-exact',
        `aws-cdk-lib@${cdk}`,
        `constructs@${constructs}`,
        tarball,
      ],
      oldest,
    );
    cpSync(path.join(appDir, 'app.mjs'), path.join(oldest, 'app.mjs'));
  }, 240_000);

  it('installs exactly the declared minimum versions', () => {
    const version = (name: string) =>
      (
        JSON.parse(
          readFileSync(path.join(oldest, 'node_modules', name, 'package.json'), 'utf8'),
        ) as { version: string }
      ).version;
    expect(version('aws-cdk-lib')).toBe(cdk);
    expect(version('constructs')).toBe(constructs);
  });

  it('synthesizes the construct with every channel and a KMS key', () => {
    writeFileSync(
      path.join(oldest, 'all.cjs'),
      `const { App, Stack } = require('aws-cdk-lib');
const { NgrokBalanceAlert } = require('ngrok-balance-alert');
const app = new App({ outdir: process.argv[2] });
new NgrokBalanceAlert(new Stack(app, 'Oldest'), 'NgrokCredits', {
  emails: ['oncall@example.com'],
  slackWorkspaceId: 'T0123456789',
  slackChannelId: 'C0123456789',
  slackWebhookParameterName: '/acme/slack-url',
  pagerDutyRoutingKeyParameterName: '/acme/pd-key',
  teamsWebhookParameterName: '/acme/teams-url',
  discordWebhookParameterName: '/acme/discord-url',
  webhookUrlParameterName: '/acme/hook-url',
  webhookSecretParameterName: '/acme/hook-secret',
  secretsKmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  dashboard: true,
  metrics: 'per-account',
});
app.synth();
`,
    );
    const out = path.join(work, 'cdk.out.oldest');
    run(process.execPath, ['all.cjs', out], oldest);
    const json = JSON.parse(
      readFileSync(path.join(out, 'Oldest.template.json'), 'utf8'),
    ) as CfnTemplate;
    const types = Object.values(json.Resources).map((r) => r.Type);
    expect(types).toEqual(
      expect.arrayContaining([
        'AWS::DynamoDB::Table',
        'AWS::SNS::TopicPolicy',
        'AWS::Chatbot::SlackChannelConfiguration',
        'AWS::CloudWatch::Dashboard',
      ]),
    );
    expect(types.filter((t) => t === 'AWS::Lambda::Function').length).toBeGreaterThanOrEqual(6);
  });

  it('synthesizes the ES module app', () => {
    const out = path.join(work, 'cdk.out.oldest-esm');
    run(process.execPath, ['app.mjs', out], oldest);
    expect(
      findMonitorFunction(JSON.parse(readFileSync(path.join(out, 'Esm.template.json'), 'utf8'))).id,
    ).toBeTruthy();
  });
});
