/**
 * Every fenced code block of README.md, checked against the code it describes, so a README
 * example that drifts fails `npm test`. Each block must be claimed by one check below; a new
 * block that none claims fails the test until someone decides how to check it.
 *
 * Executed:
 * - every `npx cdk synth`/`npx cdk deploy`/`npm run synth` line with `-c` context, and the
 *   cdk.json example: synthesized in-process as the app does (unknown keys refused, cdk-nag
 *   findings counted), deploy lines included; a line followed by a block showing an error
 *   must fail with it;
 * - `npm ci && npm pack`: packed (the tarball it names is the one npm writes), and the
 *   consumer's app.js synthesized with the real CDK CLI, `npx cdk synth --app "node app.js"`,
 *   against that tarball;
 * - the TypeScript example: compiled against the packed package, as an ES module and as
 *   CommonJS;
 * - the webhook signature check (JavaScript): run against signatures the webhook channel makes;
 * - the snooze command's results (JSON): the snooze command run on the README's payload;
 * - the check and topUp results (JSON): the commands run on the README's payloads (the check
 *   against an in-process run); the Amazon Q guardrail (JSON): the synthesized policy;
 * - the example notification (JSON): valid against schemas/notification-v2.schema.json and
 *   exactly what the renderer writes for the notification it describes.
 *
 * Shape-checked only (they need an AWS account, a terminal or a real ngrok key):
 * - `aws ssm put-parameter`: one region for the whole README, the parameter names the stack
 *   reads, the threshold command as the stack's `SetThresholdCommand` output prints it;
 * - `aws lambda invoke`: the payload parses (`{"test":true}` as the handler reads it, snooze,
 *   check and topUp payloads accepted by their commands now), the command as the stack
 *   outputs print it;
 * - `npm install`: the tarball `npm pack` writes, the peer dependencies and the CDK CLI;
 *   `npm ci`, `npm test`, `npm run ...`: scripts that exist; `git clone`, `read`, `printf`:
 *   the directory and variable names;
 * - `npx ngrok-balance-alert check ...`, `npm run check -- ...`: the options are accepted
 *   (the command stops only for want of NGROK_API_KEY); the auto top-up preview is run
 *   against a local stand-in of the API, for the line the README says it shows;
 * - the Logs Insights query: the log line's message and fields; the signature header: its
 *   name and form.
 *
 * Not examples, not checked: the architecture diagram and the module list.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Parser } from 'commonmark';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli, USAGE } from '../lambda/cli.ts';
import { createLogger } from '../lambda/common/log.ts';
import type { MonitorConfig, Notification } from '../lambda/common/types.ts';
import { DEFAULTS } from '../lambda/config/contract.ts';
import { accountParameterNames } from '../lambda/config/parameter-names.ts';
import { signatureFor } from '../lambda/notify/channels/webhook.ts';
import { renderNotification } from '../lambda/notify/render.ts';
import {
  buyThroughRun,
  expandSnooze,
  parseAccountCommand,
  runCheckCommand,
  runTopUpCommand,
} from '../lambda/run/commands.ts';
import { ACCOUNT_CHECKED_MESSAGE } from '../lambda/run/metrics.ts';
import { runMonitor } from '../lambda/run/monitor.ts';
import { runSnoozeCommand } from '../lambda/run/snooze-command.ts';
import { MemoryStore } from '../lambda/store/store.ts';
import { parseSnoozeRequest } from '../lambda/watches/snooze.ts';
import { serveParameters } from './support/aws-mocks.ts';
import { type ConsumerApp, makeConsumerApp } from './support/consumer-app.ts';
import { startHttpServer } from './support/http-server.ts';
import { validateNotificationV2 } from './support/notification-schema.ts';
import { accountConfig, monitorConfig, NOW, World } from './support/run-harness.ts';
import { REPO_ROOT } from './support/stand-ins/server.ts';
import { type Synthesized, synthesize, text } from './support/synth.ts';

const run = promisify(execFile);
const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  scripts: Record<string, string>;
  peerDependencies: Record<string, string>;
};
/** The region every command of the README names. */
const REGION = 'us-east-1';

// ---------------------------------------------------------------------------------------------
// The README's blocks and commands

interface Block {
  /** The info string: `sh`, `ts`, `json`, or empty. */
  readonly info: string;
  readonly text: string;
  /** Line of the opening fence, for messages. */
  readonly line: number;
  /** The text of the paragraph just before the block. */
  readonly before: string;
  /** The block just after this one, if it follows directly (nothing between). */
  readonly next?: Block;
}

function fencedBlocks(markdown: string): Block[] {
  const walker = new Parser().parse(markdown).walker();
  const found: { info: string; text: string; line: number; before: string; end: number }[] = [];
  for (let event = walker.next(); event; event = walker.next()) {
    const node = event.node;
    // Indented code blocks count too (with no info string): each needs a check like any other.
    if (!event.entering || node.type !== 'code_block') continue;
    let before = '';
    const prev = node.prev;
    if (prev?.type === 'paragraph') {
      const inner = prev.walker();
      for (let e = inner.next(); e; e = inner.next()) {
        if (e.entering && e.node.literal) before += e.node.literal;
      }
    }
    found.push({
      info: node.info ?? '',
      text: node.literal ?? '',
      line: node.sourcepos[0][0],
      end: node.sourcepos[1][0],
      before,
    });
  }
  const blocks: Block[] = [];
  for (let i = found.length - 1; i >= 0; i--) {
    const { end, ...block } = found[i] as (typeof found)[number];
    const following = blocks[0];
    const adjacent = following !== undefined && following.line - end <= 2;
    blocks.unshift({ ...block, ...(adjacent && { next: following }) });
  }
  return blocks;
}

/**
 * Shell words: single and double quotes, `<placeholder>` kept as one word; `&&` and `|`
 * end a command, `#` outside quotes starts a comment, `\` at a line end continues it.
 */
function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  for (const line of script.replace(/\\\n\s*/g, ' ').split('\n')) {
    let words: string[] = [];
    let word: string | undefined;
    const flush = () => {
      if (word !== undefined) words.push(word);
      word = undefined;
    };
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string;
      if (c === "'" || c === '"') {
        const close = line.indexOf(c, i + 1);
        if (close < 0) throw new Error(`unclosed quote in: ${line}`);
        word = (word ?? '') + line.slice(i + 1, close);
        i = close;
      } else if (c === '<' && word === undefined) {
        const close = line.indexOf('>', i);
        word = line.slice(i, close + 1);
        i = close;
      } else if (c === ' ' || c === '\t') {
        flush();
      } else if (c === '#' && word === undefined) {
        break;
      } else if ((c === '&' && line[i + 1] === '&') || c === '|') {
        flush();
        commands.push(words);
        words = [];
        if (c === '&') i++;
      } else {
        word = (word ?? '') + c;
      }
    }
    flush();
    if (words.length > 0) commands.push(words);
  }
  return commands;
}

/** `-c key=value` pairs (also `--context`). */
function contextOf(words: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  words.forEach((word, i) => {
    if (word !== '-c' && word !== '--context') return;
    const pair = words[i + 1] ?? '';
    const at = pair.indexOf('=');
    context[pair.slice(0, at)] = pair.slice(at + 1);
  });
  return context;
}

/** The value of `--name value` in a command. */
function option(words: readonly string[], name: string): string | undefined {
  const at = words.indexOf(name);
  return at < 0 ? undefined : words[at + 1];
}

const blocks = fencedBlocks(README);
const commands = blocks
  .filter((b) => b.info === 'sh')
  .flatMap((block) => shellCommands(block.text).map((words) => ({ words, block })));

type Command = (typeof commands)[number];
const isSynth = ({ words: w }: Command) =>
  (w[0] === 'npx' && w[1] === 'cdk' && (w[2] === 'synth' || w[2] === 'deploy')) ||
  (w[0] === 'npm' && w[1] === 'run' && w[2] === 'synth');
/** A `text` block right after a command's block: what the command prints when it fails. */
function expectedError(block: Block): string | undefined {
  const shown = block.next;
  return shown?.info === 'text' ? shown.text.trim() : undefined;
}

const isNotification = (b: Block) =>
  b.text.includes('"schema": "ngrok-balance-alert.notification.v2"');
const isAws = (service: string, action: string) => (c: Command) =>
  c.words[0] === 'aws' && c.words[1] === service && c.words[2] === action;

// ---------------------------------------------------------------------------------------------
// Which check claims each block and command

/** How each sh command is checked; the first that matches claims it. */
const COMMAND_CHECKS: { name: string; matches: (c: Command) => boolean }[] = [
  { name: 'synthesized (in-process)', matches: (c) => isSynth(c) && !c.words.includes('--app') },
  { name: "synthesized in the consumer's app", matches: (c) => isSynth(c) },
  { name: 'aws ssm put-parameter', matches: isAws('ssm', 'put-parameter') },
  { name: 'aws lambda invoke', matches: isAws('lambda', 'invoke') },
  { name: 'npm install', matches: (c) => c.words[0] === 'npm' && c.words[1] === 'install' },
  { name: 'npm pack (executed)', matches: (c) => c.words.join(' ') === 'npm pack' },
  {
    name: 'the check command',
    matches: (c) =>
      (c.words[0] === 'npx' && c.words[1] === PACKAGE.name) ||
      (c.words[0] === 'npm' && c.words[1] === 'run' && c.words[2] === 'check'),
  },
  {
    name: 'npm scripts',
    matches: (c) =>
      c.words[0] === 'npm' && (['ci', 'test'].includes(c.words[1] ?? '') || c.words[1] === 'run'),
  },
  {
    name: 'clone, read, export, printf',
    matches: (c) => ['git', 'cd', 'read', 'export', 'printf'].includes(c.words[0] ?? ''),
  },
];

/** How each block is checked; `sh` blocks are checked command by command. */
const BLOCK_CHECKS: { name: string; matches: (b: Block) => boolean }[] = [
  { name: 'commands', matches: (b) => b.info === 'sh' },
  { name: "the consumer's app.js", matches: (b) => b.info === 'js' && b.before.includes('app.js') },
  { name: 'the signature check', matches: (b) => b.info === 'js' && b.text.includes('createHmac') },
  { name: 'the TypeScript example', matches: (b) => b.info === 'ts' },
  { name: 'a snooze result', matches: (b) => b.info === 'json' && /^\{"snooze":/.test(b.text) },
  {
    name: 'a check or topUp result',
    matches: (b) => b.info === 'json' && /^\{"(check|topUp)":/.test(b.text),
  },
  {
    name: 'the Amazon Q guardrail policy',
    matches: (b) => b.info === 'json' && b.text.includes('"InvokeMonitorOnly"'),
  },
  { name: 'a notification (JSON v2)', matches: (b) => b.info === 'json' && isNotification(b) },
  { name: 'cdk.json', matches: (b) => b.info === 'json' && b.text.includes('"context"') },
  {
    name: 'the error a synth line prints',
    matches: (b) => commands.some((c) => isSynth(c) && expectedError(c.block) === b.text.trim()),
  },
  { name: 'the Logs Insights query', matches: (b) => b.text.startsWith('filter message') },
  { name: 'the signature header', matches: (b) => b.text.startsWith('X-Ngrok-Balance-Alert') },
  { name: 'not checked: a diagram', matches: (b) => b.text.includes('──>') },
  { name: 'not checked: the module list', matches: (b) => b.text.startsWith('bin/') },
];

describe('the README', () => {
  it('has a check for every fenced block and every command', () => {
    const unclaimed = [
      ...blocks
        .filter((b) => !BLOCK_CHECKS.some((check) => check.matches(b)))
        .map((b) => `line ${b.line}: a ${b.info || 'plain'} block`),
      ...commands
        .filter((c) => !COMMAND_CHECKS.some((check) => check.matches(c)))
        .map((c) => `line ${c.block.line}: ${c.words.join(' ')}`),
    ];
    expect(unclaimed).toEqual([]);
  });

  it('links only to headings that exist, and lists every section in its contents', () => {
    const slugs = [...README.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) =>
      (heading as string)
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
    const anchors = [...README.matchAll(/\]\(#([^)]+)\)/g)].map(([, anchor]) => anchor);
    expect(anchors.filter((a) => !slugs.includes(a as string))).toEqual([]);
    const contents = README.slice(README.indexOf('## Contents'), README.indexOf('## Quickstart'));
    const sections = [...README.matchAll(/^## (.+)$/gm)]
      .map(([, heading]) => heading as string)
      .filter((heading) => !['Contents', 'License'].includes(heading));
    expect(sections.filter((s) => !contents.includes(`[${s}]`))).toEqual([]);
  });

  it('gives the monthly cost of the Costs table in its introduction', () => {
    const intro = README.slice(0, README.indexOf('## Contents'));
    const row = /^\| default \| (\$[\d.]+) \|/m.exec(README)?.[1];
    expect(row).toBeDefined();
    expect(intro).toContain(`about ${row} a month`);
  });

  it('no longer calls the package published', () => {
    expect(README).not.toMatch(/published package/);
  });
});

// ---------------------------------------------------------------------------------------------
// Synth lines

function nagFindings(synthesized: Synthesized): string[] {
  return new AwsSolutionsChecks(synthesized.app)
    .validateScope(synthesized.app)
    .violations.map((v) => v.ruleName);
}

const synthLines = commands.filter((c) => isSynth(c) && !c.words.includes('--app'));
/** Each context synthesizes once, named by the first line that gives it. */
const contexts: { context: Record<string, string>; command: Command }[] = [];
for (const command of synthLines) {
  const context = contextOf(command.words);
  const seen = contexts.some((c) => JSON.stringify(c.context) === JSON.stringify(context));
  if (!seen) contexts.push({ context, command });
}

describe('every synth and deploy line of the README', () => {
  let quickstart: Synthesized;

  it.each(
    contexts.map(({ context, command }) => ({
      line: command.block.line,
      command: command.words.join(' '),
      context,
      error: expectedError(command.block),
    })),
  )('line $line: $command', ({ context, error }) => {
    if (error !== undefined) {
      expect(() => synthesize(context)).toThrow(error);
      return;
    }
    const synthesized = synthesize(context);
    expect(nagFindings(synthesized)).toEqual([]);
    if (!quickstart && Object.keys(context).join() === 'emails') quickstart = synthesized;
  });

  it('the cdk.json example', () => {
    const block = blocks.find((b) => b.info === 'json' && b.text.includes('"context"'));
    const { context } = JSON.parse(block?.text ?? '{}') as { context: Record<string, unknown> };
    expect(nagFindings(synthesize(context))).toEqual([]);
  });

  describe('the commands the stack outputs print', () => {
    let outputs: Record<string, string>;
    beforeAll(() => {
      const synthesized = quickstart ?? synthesize({ emails: 'you@example.com' });
      outputs = Object.fromEntries(
        Object.entries(synthesized.json.Outputs ?? {}).map(([id, o]) => [id, text(o.Value)]),
      );
    });

    /** A command with its region, function name and payload or value made generic. */
    const generic = (command: string) =>
      command
        .replace(/--region \S+/, '--region R')
        .replace(/--function-name (<[^>]*>|\S+)/, '--function-name F')
        .replace(/--payload '[^']*'/, "--payload 'P'")
        .replace(/--value \d+/, '--value N')
        .replace(/\s*\\\n\s*|\s+/g, ' ');

    const shown = (matches: (c: Command) => boolean) =>
      commands.filter(matches).map((c) => {
        const lines = c.block.text.replace(/\\\n\s*/g, ' ').split('\n');
        return lines.find((l) => l.startsWith('aws ') || l.includes('| aws ')) ?? '';
      });

    it('sends a test alert as SendTestAlertCommand does', () => {
      const invoke = shown(isAws('lambda', 'invoke')).find((l) => l.includes('"test"'));
      expect(generic(invoke ?? '')).toBe(generic(outputs.SendTestAlertCommand ?? ''));
    });

    it('snoozes as SnoozeCommand does, and both payloads are accepted now', () => {
      const invoke = shown(isAws('lambda', 'invoke')).find((l) => l.includes('"snooze"'));
      const output = outputs.SnoozeCommand ?? '';
      expect(generic(invoke ?? '')).toBe(generic(output));
      for (const command of [invoke ?? '', output]) {
        const payload = JSON.parse(/--payload '([^']*)'/.exec(command)?.[1] ?? 'null');
        expect(() => parseSnoozeRequest(payload.snooze, ['main'], new Date())).not.toThrow();
      }
    });

    it('changes the threshold as SetThresholdCommandmain does', () => {
      const put = shown(isAws('ssm', 'put-parameter')).find((l) => l.includes('threshold-cents'));
      expect(generic(put ?? '')).toBe(generic(outputs.SetThresholdCommandmain ?? ''));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The package, as a consumer installs it

describe("the consumer's app, against the packed package", () => {
  let consumer: ConsumerApp;
  beforeAll(() => {
    consumer = makeConsumerApp('ngrok-readme-', ['aws-cdk-lib', 'constructs']);
  }, 180_000);
  afterAll(() => {
    if (consumer) rmSync(consumer.work, { recursive: true, force: true });
  });

  it('packs the tarball the README names and installs it with the peer dependencies and the CDK CLI', () => {
    const pack = blocks.find((b) => b.info === 'sh' && /^npm ci && npm pack/m.test(b.text));
    expect(pack?.text).toContain(`writes ${consumer.tarball}`);
    const installs = commands.filter((c) => c.words[0] === 'npm' && c.words[1] === 'install');
    expect(installs.length).toBeGreaterThanOrEqual(2);
    for (const { words } of installs) {
      const [first, ...rest] = words.slice(2);
      expect([PACKAGE.name, consumer.tarball]).toContain(path.basename(first ?? ''));
      expect(rest.sort()).toEqual([...Object.keys(PACKAGE.peerDependencies), 'aws-cdk'].sort());
    }
    const clone = commands.find((c) => c.words[0] === 'git')?.block.text ?? '';
    expect(clone).toContain(`cd ${PACKAGE.name}`);
  });

  it.concurrent('synthesizes app.js with `npx cdk synth --app "node app.js"`', async () => {
    const app = blocks.find((b) => b.info === 'js' && b.before.includes('app.js'));
    writeFileSync(path.join(consumer.appDir, 'app.js'), app?.text ?? '');
    const line = commands.find((c) => isSynth(c) && c.words.includes('--app'));
    const args = line?.words.slice(2) ?? [];
    const outdir = path.join(consumer.work, 'cdk.out');
    await run(
      process.execPath,
      [
        path.join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'),
        ...args,
        '--output',
        outdir,
        '--quiet',
        '--no-notices',
      ],
      {
        cwd: consumer.appDir,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
        timeout: 170_000,
      },
    );
    const template = JSON.parse(
      readFileSync(path.join(outdir, 'Monitoring.template.json'), 'utf8'),
    );
    // In a consumer's stack the construct's output ids carry its path and a hash.
    expect(Object.keys(template.Outputs).some((id) => id.includes('SnoozeCommand'))).toBe(true);
  }, 180_000);

  it.concurrent('compiles the TypeScript example as an ES module and as CommonJS', async () => {
    const example = blocks.find((b) => b.info === 'ts')?.text ?? '';
    writeFileSync(path.join(consumer.appDir, 'example.mts'), example);
    writeFileSync(path.join(consumer.appDir, 'example.cts'), example);
    writeFileSync(
      path.join(consumer.appDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          types: [],
          skipLibCheck: true,
        },
        files: ['example.mts', 'example.cts'],
      }),
    );
    const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
    const result = await run(tsc, ['-p', 'tsconfig.json'], { cwd: consumer.appDir }).catch(
      // tsc prints its errors on stdout; a tsc that did not run gives its error instead.
      (error: { stdout?: string; message: string }) => ({ stdout: error.stdout || error.message }),
    );
    expect(result.stdout).toBe('');
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------
// Runtime payloads and results

describe('what the README shows the function reading and answering', () => {
  const snoozePayload = () => {
    const invoke = commands.find(
      (c) => isAws('lambda', 'invoke')(c) && c.words.join(' ').includes('"snooze"'),
    );
    return JSON.parse(option(invoke?.words ?? [], '--payload') ?? 'null') as {
      snooze: Record<string, unknown>;
    };
  };
  const config = {
    accounts: [
      {
        name: 'main',
        tokenParameterName: DEFAULTS.tokenParameterName as string,
        thresholdParameterName: accountParameterNames('main').threshold,
        thresholdCents: 1000,
      },
    ],
  } as unknown as MonitorConfig;

  async function snoozeResult(payload: unknown, now: Date) {
    const ssm = mockClient(SSMClient);
    const sns = mockClient(SNSClient);
    const parameters = new Map([[accountParameterNames('main').threshold, '1000']]);
    serveParameters(ssm, sns, () => parameters);
    try {
      return await runSnoozeCommand(payload, config, {
        ssm: new SSMClient({}),
        sns: new SNSClient({}),
        topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
        store: new MemoryStore<unknown>(),
        log: createLogger(() => {}),
        now: () => now,
      });
    } finally {
      ssm.restore();
      sns.restore();
    }
  }

  it('answers the snooze payload with the result the README shows', async () => {
    const shown = blocks.find((b) => b.info === 'json' && b.text.startsWith('{"snooze":"done"'));
    const expected = JSON.parse(shown?.text ?? 'null');
    const payload = snoozePayload();
    // The README's result is for a command run `for` before its end.
    const until = Date.parse(expected.accounts[0].until);
    const duration = parseSnoozeRequest(payload.snooze, ['main'], new Date(0)).until?.getTime();
    const now = new Date(until - (duration ?? 0));

    expect(await snoozeResult(payload.snooze, now)).toEqual(expected);
  });

  it('refuses a misspelt account with the answer the README shows', async () => {
    const shown = blocks.find((b) => b.info === 'json' && b.text.startsWith('{"snooze":"refused"'));
    const expected = JSON.parse(shown?.text ?? 'null');
    // The README's refusal is for its payload with the account misspelt "mian".
    const payload = { ...snoozePayload().snooze, account: 'mian' };

    expect(await snoozeResult(payload, new Date())).toEqual(expected);
  });

  it('shows a notification that the schema accepts, exactly as the renderer writes it', () => {
    // Prepare
    const shown = JSON.parse(blocks.find(isNotification)?.text ?? 'null');
    const notification = {
      kind: shown.kind,
      account: shown.account,
      level: shown.level,
      reason: shown.reason,
      thresholds: {
        thresholdCents: shown.thresholdCents,
        criticalThresholdCents: shown.criticalThresholdCents ?? undefined,
        recoveryMarginCents: shown.recoveryMarginCents,
      },
      thresholdParameterName: shown.content.thresholdParameterName,
      configProblems: shown.configProblems,
      balanceCents: shown.balanceCents,
      at: shown.at,
    } as Notification;

    // Act
    const written = renderNotification(notification, { region: REGION }).structured;

    // Assess
    expect(validateNotificationV2(shown), JSON.stringify(validateNotificationV2.errors)).toBe(true);
    expect(shown).toEqual(JSON.parse(JSON.stringify(written)));
  });

  it('shows only invoke payloads the function accepts', () => {
    const invokes = commands.filter(isAws('lambda', 'invoke'));
    const kinds = new Set<string>();
    for (const { words } of invokes) {
      const payload = JSON.parse(option(words, '--payload') ?? 'null') as Record<string, unknown>;
      const [kind] = Object.keys(payload);
      kinds.add(kind ?? '');
      if (kind === 'snooze') {
        expect(() =>
          parseSnoozeRequest(expandSnooze(payload.snooze), ['main'], new Date()),
        ).not.toThrow();
      } else if (kind === 'check' || kind === 'topUp') {
        expect(parseAccountCommand(kind, payload[kind], config)).toHaveProperty('account');
      } else {
        expect(payload).toEqual({ test: true });
      }
    }
    expect([...kinds].sort()).toEqual(['check', 'snooze', 'test', 'topUp']);
  });

  it('answers the check payload with the result the README shows', async () => {
    const shown = blocks.find((b) => b.info === 'json' && b.text.startsWith('{"check":"done"'));
    const invoke = commands.find(
      (c) => isAws('lambda', 'invoke')(c) && c.words.join(' ').includes('"check"'),
    );
    const payload = JSON.parse(option(invoke?.words ?? [], '--payload') ?? 'null');
    // The README's result is for a balance of $4.99 under a $5.00 threshold.
    const main = accountConfig('main');
    const world = new World();
    world.seed(main, 499);
    const checkConfig = monitorConfig([main]);
    const result = await runCheckCommand(payload.check, checkConfig, {
      run: (request) => runMonitor(checkConfig, world.deps(NOW), request),
      store: world.store,
      log: createLogger(() => {}),
    });
    expect(result).toEqual(JSON.parse(shown?.text ?? 'null'));
  });

  it('answers the topUp payload with the refusal the README shows', async () => {
    const shown = blocks.find((b) => b.info === 'json' && b.text.startsWith('{"topUp":'));
    const invoke = commands.find(
      (c) => isAws('lambda', 'invoke')(c) && c.words.join(' ').includes('"topUp"'),
    );
    const payload = JSON.parse(option(invoke?.words ?? [], '--payload') ?? 'null');
    const buyer = {
      accounts: [{ ...config.accounts[0], autoTopUpCents: 2000 }],
    } as unknown as MonitorConfig;
    // The run's side is tested against a ledger stand-in (monitor.top-up.test.ts): here, a
    // run that found the cap reached, and what the command answers for it.
    const capped = 'auto top-up: blocked by the monthly cap ($60.00 of $60.00 bought)';
    const result = await runTopUpCommand(payload.topUp, buyer, {
      buy: buyThroughRun(async () => ({
        accounts: [{ account: 'main', status: 'ok', notifications: [], autoTopUp: capped }],
        ssmReadCalls: 1,
      })),
      log: createLogger(() => {}),
    });
    expect(result).toEqual(JSON.parse(shown?.text ?? 'null'));
  });

  it("shows the channel guardrail the stack gives the Amazon Q channel's role", () => {
    const shown = JSON.parse(
      blocks.find((b) => b.info === 'json' && b.text.includes('"InvokeMonitorOnly"'))?.text ??
        'null',
    );
    const { json } = synthesize({
      emails: 'you@example.com',
      slackWorkspaceId: 'T0123456789',
      slackChannelId: 'C0123456789',
    });
    const guardrails = Object.values(json.Resources).filter(
      (r) =>
        r.Type === 'AWS::IAM::ManagedPolicy' &&
        String(r.Properties?.Description).includes('guardrail'),
    );
    expect(guardrails).toHaveLength(1);
    const document = guardrails[0]?.Properties?.PolicyDocument as {
      Statement: { Resource: unknown }[];
    };
    expect(JSON.stringify(document.Statement[0]?.Resource)).toMatch(
      /^\{"Fn::GetAtt":\["[A-Za-z0-9]*Monitor[A-Za-z0-9]*","Arn"\]\}$/,
    );
    const named = {
      ...document,
      Statement: document.Statement.map((st) => ({
        ...st,
        Resource: "<the monitor function's ARN>",
      })),
    };
    expect(named).toEqual(shown);
  });

  it('sends a test alert for {"test":true}, as the handler reads it', () => {
    const invoke = commands.find(
      (c) => isAws('lambda', 'invoke')(c) && c.words.join(' ').includes('"test"'),
    );
    expect(JSON.parse(option(invoke?.words ?? [], '--payload') ?? 'null')).toEqual({ test: true });
  });

  it('names one region and the parameters the stack reads in every aws command', () => {
    const aws = commands.filter((c) => c.words[0] === 'aws');
    expect(new Set(aws.map((c) => option(c.words, '--region')))).toEqual(new Set([REGION]));
    for (const { words } of aws.filter(isAws('lambda', 'invoke'))) {
      expect(option(words, '--cli-binary-format')).toBe('raw-in-base64-out');
    }
    for (const { words } of aws.filter(isAws('ssm', 'put-parameter'))) {
      const name = option(words, '--name') ?? '';
      expect(name).toMatch(/^\/[A-Za-z0-9_.\-/]+$/);
      if (option(words, '--type') === 'SecureString') {
        expect(option(words, '--value')).toBe('file:///dev/stdin');
        if (name.endsWith('/api-key')) expect(name).toBe(DEFAULTS.tokenParameterName);
      } else {
        expect(name).toBe(accountParameterNames('main').threshold);
      }
    }
  });

  it('pipes into put-parameter the variable it read', () => {
    for (const { block } of commands.filter((c) => c.words[0] === 'printf')) {
      const variable = /read -rs (\w+)/.exec(block.text)?.[1];
      expect(block.text).toContain(`printf '%s' "$${variable}"`);
    }
  });

  it('runs npm scripts that exist', () => {
    const scripts = commands
      .filter((c) => c.words[0] === 'npm' && c.words[1] === 'run')
      .map((c) => c.words[2] ?? '');
    expect(scripts.filter((s) => !(s in PACKAGE.scripts))).toEqual([]);
  });

  const checkCommands = () =>
    commands.filter((c) =>
      COMMAND_CHECKS.find((check) => check.name === 'the check command')?.matches(c),
    );
  /** The check command's arguments: `npx ngrok-balance-alert check ...` or `npm run check [-- ...]`. */
  const checkArgs = (words: readonly string[]) => {
    const dashes = words.indexOf('--');
    return words[0] === 'npx'
      ? words.slice(2)
      : ['check', ...(dashes < 0 ? [] : words.slice(dashes + 1))];
  };
  async function check(args: readonly string[], env: Record<string, string>) {
    let stdout = '';
    let stderr = '';
    const code = await cli(args, env, {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
    });
    return { code, stdout, stderr };
  }

  it('gives the check command options it accepts, the key as its help shows, and an executable bin', async () => {
    expect(checkCommands().length).toBeGreaterThanOrEqual(2);
    for (const { words } of checkCommands()) {
      const { code, stderr } = await check(checkArgs(words), {});
      expect(code).toBe(2);
      expect(stderr, words.join(' ')).toContain('NGROK_API_KEY is not set');
    }
    const read = commands.find((c) => c.words[0] === 'read' && c.words.includes('NGROK_API_KEY'));
    expect(USAGE).toContain(read?.block.text.split('\n')[0]?.split('#')[0]?.trim());
    // `npx ngrok-balance-alert` in a clone runs the built bin directly.
    expect(statSync(path.join(REPO_ROOT, 'dist', 'cli.mjs')).mode & 0o111).toBe(0o111);
  });

  it('shows what auto top-up would buy with a low balance, as the README says', async () => {
    // Prepare: a balance below the default threshold, nothing bought this month.
    const command = checkCommands().find((c) => c.words.includes('--auto-top-up-cents'));
    const claim = /With a low balance it shows `([^`]+)`/.exec(README)?.[1] ?? '';
    const api = await startHttpServer((req, res) => {
      const answers: Record<string, unknown> = {
        '/credits/balance': { balanceCents: 500 },
        '/usage/overview': { uri: '/usage/overview', buckets: [], totals: { cost: '0' } },
        '/credits/transactions': { items: [] },
      };
      const body = answers[new URL(req.url ?? '/', 'http://api').pathname];
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { msg: 'not found' }));
    });

    try {
      // Act
      const { stdout } = await check(checkArgs(command?.words ?? []), {
        NGROK_API_KEY: 'ngrok-readme-key-1234',
        NGROK_API_URL: api.url,
      });

      // Assess: the README's words, with the report's alignment.
      expect(claim).toMatch(/^Auto top-up: /);
      expect(stdout.replace(/:\s+/g, ': ')).toContain(claim);
    } finally {
      await api.close();
    }
  });

  it('verifies the signatures the webhook channel makes, and refuses a changed body or an old one', async () => {
    const block = blocks.find((b) => b.info === 'js' && b.text.includes('createHmac'));
    const dir = mkdtempSync(path.join(tmpdir(), 'ngrok-readme-verify-'));
    const file = path.join(dir, 'verify.mjs');
    writeFileSync(file, `${block?.text}\nexport { verify };\n`);
    try {
      const { verify } = (await import(pathToFileURL(file).href)) as {
        verify: (secret: string, header: string, body: string, now?: number) => boolean;
      };
      const body = '{"version":2,"kind":"test"}';
      const now = 1_796_000_000;
      const header = signatureFor('s3cret', body, now);
      expect(verify('s3cret', header, body, now + 10)).toBe(true);
      expect(verify('s3cret', header, `${body} `, now + 10)).toBe(false);
      expect(verify('other', header, body, now + 10)).toBe(false);
      expect(verify('s3cret', header, body, now + 301)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows the signature header the webhook channel sends', () => {
    const block = blocks.find((b) => b.text.startsWith('X-Ngrok-Balance-Alert'));
    const [name, form] = (block?.text ?? '').split(': ');
    expect(name?.toLowerCase()).toBe('x-ngrok-balance-alert-signature');
    expect(signatureFor('s', 'b', 1)).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(form).toMatch(/^t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>\.<raw body>"/);
  });

  it('queries the log line the monitor writes', () => {
    const query = blocks.find((b) => b.text.startsWith('filter message'))?.text ?? '';
    expect(query).toContain(`message = "${ACCOUNT_CHECKED_MESSAGE}"`);
    const monitor = readFileSync(path.join(REPO_ROOT, 'lambda', 'run', 'monitor.ts'), 'utf8');
    for (const field of query.match(/\b(balanceDollars|account|dailySpendDollars|runwayDays)\b/g) ??
      []) {
      expect(monitor).toMatch(new RegExp(`\\b${field}[,:]`));
    }
  });
});
