import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main, USAGE } from '../lambda/cli.ts';
import { accountParameterNames } from '../lambda/config/parameter-names.ts';
import { accessKeysPage, type StandInAccessKey, sortKeys } from './support/access-keys-stand-in.ts';
import { startHttpServer, type TestHttpServer } from './support/http-server.ts';

const KEY = 'ngrok-cli-key-NEVER-PRINT-42';
/** Midday UTC: the usage window is 7 full days plus half of today, 7.5 days in all. */
const NOW = new Date('2025-06-15T12:00:00Z');
const SHIM = fileURLToPath(new URL('../bin/ngrok-balance-alert-cli.mjs', import.meta.url));

// ---------------------------------------------------------------------------------------------
// A stand-in for the ngrok.ai API on 127.0.0.1, answering from a script

interface Scripted {
  readonly status: number;
  readonly body: unknown;
}

interface StandIn {
  readonly server: TestHttpServer;
  readonly url: string;
  /** Paths requested so far, without the query string. */
  paths(): string[];
  script: {
    balance: Scripted;
    usage: Scripted;
    transactions: Scripted;
    accessKeys?: readonly StandInAccessKey[];
  };
}

const noUsage = (): Scripted => ({
  status: 200,
  body: { uri: '/usage/overview', buckets: [], totals: { cost: '0', requests: 0, errors: 0 } },
});

async function startStandIn(): Promise<StandIn> {
  const script = {
    balance: { status: 200, body: { balanceCents: 5000 } },
    usage: noUsage(),
    transactions: { status: 200, body: { items: [] } },
  };
  const server = await startHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const answer =
      path === '/credits/balance'
        ? standIn.script.balance
        : path === '/usage/overview'
          ? standIn.script.usage
          : path === '/credits/transactions' && req.method === 'GET'
            ? standIn.script.transactions
            : path === '/access-keys' && standIn.script.accessKeys
              ? {
                  status: 200,
                  body: accessKeysPage(
                    sortKeys(standIn.script.accessKeys),
                    new URL(req.url ?? '/', 'http://stand-in'),
                  ),
                }
              : { status: 404, body: { msg: 'not found' } };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  const standIn: StandIn = {
    server,
    url: server.url,
    paths: () => server.requests.map((r) => new URL(r.url, 'http://stand-in').pathname),
    script,
  };
  return standIn;
}

/** Daily usage buckets for 2025-06-08..14 plus today's partial bucket (half a day's spend). */
function usageAt(dailyCentsByKey: Record<string, number>): Scripted {
  const buckets = [];
  for (let day = 8; day <= 15; day++) {
    for (const [groupKey, cents] of Object.entries(dailyCentsByKey)) {
      const share = day === 15 ? cents / 2 : cents;
      buckets.push({
        bucketStart: `2025-06-${String(day).padStart(2, '0')}T00:00:00Z`,
        groupKey,
        cost: (share / 100).toFixed(5),
        requests: 100,
        errors: 0,
      });
    }
  }
  return {
    status: 200,
    body: { uri: '/usage/overview', buckets, totals: { cost: '0', requests: 0, errors: 0 } },
  };
}

// ---------------------------------------------------------------------------------------------
// Running main() in-process

let api: StandIn;
beforeEach(async () => {
  api = await startStandIn();
});
afterEach(async () => {
  await api.server.close();
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(
  argv: string[],
  env: Record<string, string | undefined> = {},
  io: { fetch?: typeof fetch } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    argv,
    { NGROK_API_KEY: KEY, NGROK_API_URL: api.url, ...env },
    {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      now: () => NOW,
      ...io,
    },
  );
  // Whatever happened, the key is never shown.
  expect(stdout).not.toContain(KEY);
  expect(stderr).not.toContain(KEY);
  return { code, stdout, stderr };
}

describe('check with auto top-up', () => {
  const TOP_UP = ['--auto-top-up-cents', '2000', '--auto-top-up-monthly-cap-cents', '6000'];
  const grant = (createdAt: string) => ({
    type: 'credits',
    category: 'purchase',
    amountCents: 2000,
    createdAt,
    expiresAt: null,
  });

  it('shows what it would buy below the threshold, and buys nothing', async () => {
    // Prepare
    api.script.balance = { status: 200, body: { balanceCents: 400 } };
    // Act
    const human = await run(['check', ...TOP_UP]);
    const json = await run(['check', '--json', ...TOP_UP]);
    // Assess
    expect(human.stdout).toMatch(/Auto top-up:\s+would buy \$20\.00/);
    expect(JSON.parse(json.stdout).autoTopUp).toBe('would buy $20.00');
    expect(api.server.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(api.paths()).toContain('/credits/transactions');
  });

  it('says the cap would stop it in a month that already bought $60.00', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 400 } };
    api.script.transactions = {
      status: 200,
      body: {
        items: ['2025-06-14', '2025-06-10', '2025-06-02'].map((d) => grant(`${d}T09:00:00Z`)),
      },
    };
    const { stdout } = await run(['check', '--json', ...TOP_UP]);
    expect(JSON.parse(stdout).autoTopUp).toBe(
      'blocked by the monthly cap ($60.00 of $60.00 bought)',
    );
  });

  it('says nothing is needed above the threshold, without reading the ledger', async () => {
    const { stdout } = await run(['check', '--json', ...TOP_UP]);
    expect(JSON.parse(stdout).autoTopUp).toBe('not needed above $10.00');
  });

  it('refuses an amount without a cap, or a cap below one purchase', async () => {
    const missing = await run(['check', '--auto-top-up-cents', '2000']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--auto-top-up-monthly-cap-cents: missing.');
    const low = await run(['check', ...TOP_UP.slice(0, 3), '1000']);
    expect(low.stderr).toContain('at least --auto-top-up-cents (2000)');
    const stray = await run(['check', '--auto-top-up-below-cents', '100']);
    expect(stray.stderr).toContain('need --auto-top-up-cents');
  });
});

describe('check', () => {
  it('exits 0 and would send nothing when the balance is healthy', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 5000 } };
    const { code, stdout, stderr } = await run(['check']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain('Account:');
    expect(stdout).toMatch(/Balance:\s+\$50\.00/);
    expect(stdout).toMatch(/Warning threshold:\s+\$10\.00/);
    expect(stdout).toMatch(/Level:\s+ok/);
    expect(stdout).toContain('Would send: nothing (balance is healthy)');
    expect(api.paths().sort()).toEqual(['/credits/balance', '/usage/overview']);
    expect(api.server.requests.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(
      true,
    );
  });

  it('exits 1 and shows the alert it would send when the balance is below the threshold', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 499 } };
    const { code, stdout } = await run(['check', '--threshold-cents', '500', '--verbose']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/Balance:\s+\$4\.99/);
    // The report and the message it would send word the level alike.
    expect(stdout).toMatch(/ {2}Level:\s+low \(below the warning threshold\)\n/);
    expect(stdout).toMatch(/ {4}Level: low \(below the warning threshold\)\n/);
    expect(stdout).toContain('Would send');
    expect(stdout).toContain('Subject: ngrok credits low (main): $4.99 left, threshold $5.00');
    // The email text, indented under its subject.
    expect(stdout).toMatch(/\n {4}The ngrok AI Gateway credit balance for main is low/);
    expect(stdout).toContain(
      '--region YOUR_REGION --name /ngrok-balance-alert/main/threshold-cents --type String --value 500',
    );
  });

  it('names the shell region in the commands it would send', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 499 } };
    const { stdout } = await run(['check', '--threshold-cents', '500', '--verbose'], {
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: 'eu-central-1',
    });
    expect(stdout).toContain(
      'aws ssm put-parameter --region eu-central-1 --name /ngrok-balance-alert/main/threshold-cents',
    );
  });

  it('names the critical level and its threshold', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 150 } };
    const { code, stdout } = await run([
      'check',
      '--threshold-cents=1000',
      '--critical-threshold-cents=200',
      '--account',
      'prod',
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/Critical threshold:\s+\$2\.00/);
    expect(stdout).toMatch(/Level:\s+critical/);
    expect(stdout).toContain('Subject: ngrok credits critical (prod): $1.50 left');
  });

  it('exits 1 on a runway alert: $6.00 at $3.10/day lasts about 1.9 days', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 600 } };
    // $3.10/day: 7 full days and today's half-day bucket, $23.25 over 7.5 days.
    api.script.usage = usageAt({ key_alpha: 200, key_beta: 110 });
    const { code, stdout } = await run(['check', '--threshold-cents', '500']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/Balance:\s+\$6\.00/);
    expect(stdout).toMatch(/Level:\s+low \(the credits are forecast to run out soon\)/);
    expect(stdout).toMatch(/Runway alert:\s+below 3 days/);
    // The configured window, not the 7.5 days that today's part-day makes it at noon.
    expect(stdout).toMatch(
      /Runway:\s+about 1\.9 days at \$3\.10\/day \(usage over the last 7 days\)\n/,
    );
    expect(stdout).toMatch(
      /Top spenders:\s+key_alpha \$15\.00 \(65%\), key_beta \$8\.25 \(35%\) in the last 7 days\n/,
    );
    expect(stdout).toContain('Subject: ngrok credits run out in about 1.9 days (main): $6.00 left');
  });

  it('names the top spenders by their access key names, and falls back to the id', async () => {
    // Prepare
    api.script.usage = usageAt({ key_alpha: 200, key_beta: 110 });
    api.script.accessKeys = [{ id: 'key_alpha', name: 'batch-worker' }, { id: 'key_beta' }];
    // Act
    const { stdout } = await run(['check', '--threshold-cents', '500']);
    // Assess
    expect(stdout).toMatch(
      /Top spenders:\s+batch-worker \$15\.00 \(65%\), key_beta \$8\.25 \(35%\)/,
    );
  });

  it('exits 2 and says the key was rejected on a 401, even when the body echoes the key', async () => {
    api.script.balance = {
      status: 401,
      body: { errorCode: 'ERR_NGROK_AI_401', msg: `the key ${KEY} is not valid` },
    };
    const { code, stdout, stderr } = await run(['check']);
    expect(code).toBe(2);
    expect(stderr).toBe('');
    // Said once, in the report: not again in a message preview or on stderr.
    expect(stdout.split('rejected the API key (HTTP 401)')).toHaveLength(2);
    expect(stdout).toContain('the key in NGROK_API_KEY was rejected');
    // The command on a line of its own, whole, so it can be copied.
    expect(stdout).toMatch(/^\s+read -rs NGROK_API_KEY && export NGROK_API_KEY$/m);
    expect(stdout).not.toContain('NGROK_API_KEY=');
    expect(stdout).toContain(
      'Subject: ngrok monitor cannot read the balance (main): API key rejected',
    );
    expect(stdout).toContain('a local check reports a failed check at once');
    expect(stdout).toContain('[redacted]');
    // The local check never knew a level: it does not claim one.
    expect(stdout).not.toContain('last known');
  });

  it('exits 2 on a malformed balance', async () => {
    api.script.balance = { status: 200, body: { balanceCents: '12.5' } };
    const { code, stdout } = await run(['check']);
    expect(code).toBe(2);
    expect(stdout).toContain('balanceCents of type string');
  });

  it('exits 2 on a network failure, without printing a key that the error quotes', async () => {
    const failing: typeof fetch = async () => {
      throw new TypeError('fetch failed', { cause: new Error(`refused for ${KEY}`) });
    };
    const { code, stdout, stderr } = await run(['check', '--json'], {}, { fetch: failing });
    expect(code).toBe(2);
    expect(stderr).toContain('could not read the balance: GET /credits/balance failed');
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      status: 'check-failed',
      balanceCents: null,
      level: null,
      error: { kind: 'transient' },
      attempts: expect.any(Number),
      elapsedSeconds: expect.any(Number),
    });
    expect(report.attempts).toBeGreaterThan(1);
    expect(report.notifications[0].kind).toBe('monitor-failing');
  });

  it('keeps the key out of the forecast note when the usage call echoes it', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 5000 } };
    api.script.usage = { status: 400, body: { errorCode: 'ERR_BAD', msg: `bad key ${KEY}` } };
    const { code, stdout } = await run(['check']);
    expect(code).toBe(0);
    expect(stdout).toContain('forecast unavailable');
    expect(stdout).toContain('[redacted]');
  });

  it('prints one JSON object with the result and nothing else on stdout', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 600 } };
    api.script.usage = usageAt({ key_alpha: 310 });
    const { code, stdout } = await run([
      'check',
      '--json',
      '--threshold-cents',
      '500',
      '--critical-threshold-cents',
      '100',
    ]);
    expect(code).toBe(1);
    expect(stdout.trimEnd().split('\n')).toHaveLength(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({
      account: 'main',
      status: 'alerting',
      balanceCents: 600,
      thresholdCents: 500,
      criticalThresholdCents: 100,
      level: 'low',
      reason: 'runway',
      forecast: { source: 'usage', windowDays: 7, dailySpendCents: 310, runwayDays: 1.94 },
    });
    expect(report.notifications).toHaveLength(1);
    expect(report.notifications[0]).toEqual({
      kind: 'balance-alert',
      subject: expect.stringContaining('about 1.9 days'),
    });
  });

  it('rounds the numbers in JSON: whole cents, days to two decimals', async () => {
    // Prepare: $1.00 a day for a third of the keys' spend each, which divides unevenly.
    api.script.balance = { status: 200, body: { balanceCents: 1000 } };
    api.script.usage = usageAt({ key_a: 100 / 3, key_b: 100 / 3, key_c: 100 / 3 });

    // Act
    const { stdout } = await run(['check', '--json', '--threshold-cents', '500']);

    // Assess: no number has more decimals than it means.
    const report = JSON.parse(stdout);
    const numbers = JSON.stringify(report.forecast).match(/-?\d+\.\d+/g) ?? [];
    for (const n of numbers) expect(n.split('.')[1]?.length, n).toBeLessThanOrEqual(3);
    expect(report.forecast).toMatchObject({ dailySpendCents: 100, runwayDays: 10 });
    expect(report.forecast.topSpenders[0]).toMatchObject({ costCents: 250, share: 0.333 });
  });

  it('includes each message in full in JSON with --verbose', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 499 } };

    const { stdout } = await run(['check', '--json', '--verbose', '--threshold-cents', '500']);

    expect(JSON.parse(stdout).notifications[0]).toEqual({
      kind: 'balance-alert',
      subject: expect.stringContaining('$4.99 left'),
      text: expect.stringContaining('What to do'),
    });
  });

  it('says nothing about the runway alert on a healthy balance', async () => {
    api.script.usage = usageAt({ key_alpha: 100 });

    const { code, stdout } = await run(['check']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/Runway:\s+about/);
    expect(stdout).not.toContain('Runway alert');
  });

  it('reports a healthy balance in JSON with no notifications', async () => {
    const { code, stdout } = await run(['check', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ status: 'ok', level: 'ok', balanceCents: 5000 });
    expect(report).not.toHaveProperty('criticalThresholdCents');
    expect(report.notifications).toEqual([]);
  });

  it('renders the same threshold parameter name the stack creates', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 499 } };
    const { code, stdout } = await run([
      'check',
      '--account',
      'prod',
      '--threshold-cents',
      '500',
      '--verbose',
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(`--name ${accountParameterNames('prod').threshold} --type String`);
  });
});

describe('the report', () => {
  /** Every line of a report fits a 100-column terminal, and the report fits one screen. */
  function expectOneScreen(stdout: string) {
    const lines = stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
  }

  it('fits one screen on an alert, with the subject but not the message', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 150 } };
    api.script.usage = usageAt({ key_alpha: 200, key_beta: 110 });
    const { code, stdout } = await run(['check', '--critical-threshold-cents', '200']);
    expect(code).toBe(1);
    expectOneScreen(stdout);
    expect(stdout).toContain('Subject: ngrok credits critical (main)');
    expect(stdout).toContain('(--verbose shows each message in full)');
    expect(stdout).not.toContain('What to do');
  });

  it('fits one screen on a rejected key', async () => {
    api.script.balance = { status: 401, body: { msg: 'bad key' } };
    const { stdout } = await run(['check']);
    expectOneScreen(stdout);
  });

  it('shows the message it would send in full with --verbose, as the renderer writes it', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 499 } };
    const { stdout } = await run(['check', '--threshold-cents', '500', '--verbose']);
    expect(stdout).toContain('    What to do:');
    expect(stdout).not.toContain('--verbose shows');
  });

  it('names a failing usage overview without its URL-encoded query', async () => {
    api.script.usage = { status: 500, body: { msg: 'boom' } };
    const { code, stdout } = await run(['check']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Runway:\s+.*GET \/usage\/overview failed with HTTP 500/);
    expect(stdout).not.toContain('startTime');
    expect(stdout).not.toContain('%3A');
  });

  it('reports the total time and attempts of a check that failed after retries', async () => {
    api.script.balance = { status: 503, body: { msg: 'unavailable' } };
    const { code, stdout } = await run(['check']);
    expect(code).toBe(2);
    expect(stdout).toMatch(/Took:\s+\d+\.\d s, [2-9] attempts/);
  });

  it('says on a terminal that a slow check is still working, after a second', async () => {
    const slow: typeof fetch = async (input, init) => {
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      return fetch(input, init);
    };
    let stderr = '';
    const code = await main(
      ['check'],
      { NGROK_API_KEY: KEY, NGROK_API_URL: api.url },
      {
        stdout: () => undefined,
        stderr: (s) => {
          stderr += s;
        },
        fetch: slow,
        interactive: true,
      },
    );
    expect(code).toBe(0);
    expect(stderr).toBe(`Checking the balance at ${api.url} (gives up after 25 s)...\n`);
  });

  it('prints no progress note with --json or off a terminal', async () => {
    const slow: typeof fetch = async (input, init) => {
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      return fetch(input, init);
    };
    for (const [argv, interactive] of [
      [['check', '--json'], true],
      [['check'], false],
    ] as const) {
      let stderr = '';
      await main(
        [...argv],
        { NGROK_API_KEY: KEY, NGROK_API_URL: api.url },
        {
          stdout: () => undefined,
          stderr: (s) => {
            stderr += s;
          },
          fetch: slow,
          interactive,
        },
      );
      expect(stderr).toBe('');
    }
  });
});

describe('command line and environment', () => {
  it.each([
    ['a space', 'abc def-key', 'a space at character 4 of 11'],
    ['a line break', 'abc\ndef-key', 'a line break at character 4 of 11'],
    ['a curly quote', 'abc\u201cdef-key', 'a character that is not plain ASCII'],
  ])(
    'refuses a key with %s before sending it, saying what is wrong without echoing it',
    async (_what, key, problem) => {
      const { code, stderr } = await run(['check'], { NGROK_API_KEY: key });
      expect(code).toBe(2);
      expect(stderr).toContain(`NGROK_API_KEY contains ${problem}`);
      expect(stderr).toContain('so it was not sent');
      expect(stderr).not.toContain('rejected');
      expect(stderr).not.toContain(key);
      expect(api.paths()).toEqual([]);
    },
  );

  it('refuses to run without NGROK_API_KEY and says how to set it', async () => {
    for (const value of [undefined, '', '   ']) {
      const { code, stdout, stderr } = await run(['check'], { NGROK_API_KEY: value });
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain('NGROK_API_KEY is not set');
      expect(stderr).toContain('read -rs NGROK_API_KEY && export NGROK_API_KEY');
      expect(stderr).not.toContain('NGROK_API_KEY=');
      expect(stderr).toContain('https://app.ngrok.ai');
    }
    expect(api.server.requests).toEqual([]);
  });

  it('refuses a key passed as an argument, without echoing it', async () => {
    for (const argv of [
      ['check', '--api-key', 'sk_passed_on_the_command_line'],
      ['check', '--key=sk_passed_on_the_command_line'],
      ['check', '--token', 'sk_passed_on_the_command_line'],
    ]) {
      const { code, stdout, stderr } = await run(argv);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain('NGROK_API_KEY environment variable');
      expect(stderr).toContain('shell history');
      expect(stderr).toContain('read -rs NGROK_API_KEY && export NGROK_API_KEY');
      expect(stderr).not.toContain('sk_passed_on_the_command_line');
    }
    expect(api.server.requests).toEqual([]);
  });

  it('rejects bad option values, naming the option, the value and the expected form', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--threshold-cents', 'abc'],
        /--threshold-cents: "abc" is not valid\. Expected a whole number of cents/,
      ],
      [['--threshold-cents=10.50'], /--threshold-cents: "10\.50" is not valid/],
      [['--threshold-cents', '-5'], /--threshold-cents: "-5" is not valid/],
      [['--threshold-cents'], /--threshold-cents needs a value: Expected a whole number of cents/],
      [
        ['--forecast-days', '0'],
        /--forecast-days: "0" is not valid\. Expected a whole number of days from 1 to 30/,
      ],
      [
        ['--runway-alert-days', 'x'],
        /--runway-alert-days: "x" is not valid\. Expected a whole number of days from 0 to 365/,
      ],
      [
        ['--critical-threshold-cents', '1000'],
        /--critical-threshold-cents: 1000 is not below the warning threshold 1000/,
      ],
      [['--account', 'my account'], /--account: "my account" is not valid\. Expected 1-48 letters/],
      [['--json=yes'], /--json takes no value/],
    ];
    for (const [options, message] of cases) {
      const { code, stdout, stderr } = await run(['check', ...options]);
      expect(code, options.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(message);
    }
    expect(api.server.requests).toEqual([]);
  });

  it('rejects an unknown command or option with the usage', async () => {
    for (const argv of [[], ['chek'], ['check', '--threshold', '5'], ['check', 'extra'], ['-x']]) {
      const { code, stdout, stderr } = await run(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain('Usage: ngrok-balance-alert check [options]');
    }
  });

  it('does not echo a long stray argument whole: it may be a pasted key', async () => {
    const pasted = 'sk_3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6d7e8f9a0';
    const { code, stderr } = await run(['check', pasted]);
    expect(code).toBe(2);
    expect(stderr).not.toContain(pasted);
    expect(stderr).toContain('unexpected argument "sk_3f9a0...');
  });

  it('refuses an NGROK_API_URL that would send the key unencrypted or is not a URL', async () => {
    for (const url of ['http://api.example.com', 'not a url', 'ftp://127.0.0.1']) {
      const { code, stderr } = await run(['check'], { NGROK_API_URL: url });
      expect(code).toBe(2);
      expect(stderr).toContain('NGROK_API_URL');
    }
    expect(api.server.requests).toEqual([]);
  });

  it('prints help that fits one screen and exits 0', async () => {
    for (const argv of [['--help'], ['-h'], ['check', '--help'], ['help']]) {
      const { code, stdout, stderr } = await run(argv, { NGROK_API_KEY: undefined });
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toBe(USAGE);
    }
    for (const text of [
      '--threshold-cents',
      '--json',
      'NGROK_API_KEY',
      'NGROK_API_URL',
      'Exit codes',
      'read -rs NGROK_API_KEY && export NGROK_API_KEY',
    ]) {
      expect(USAGE).toContain(text);
    }
    // The key is never typed into a command line, where shell history would keep it.
    expect(USAGE).not.toContain('NGROK_API_KEY=');
    const lines = USAGE.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
  });
});

describe('the installed command', () => {
  it('runs `ngrok-balance-alert check --json` through the bin shim', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 499 } };
    const child = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve, reject) => {
        execFile(
          process.execPath,
          [SHIM, 'check', '--json', '--threshold-cents', '500'],
          {
            cwd: tmpdir(),
            env: { ...process.env, NGROK_API_KEY: KEY, NGROK_API_URL: api.url },
            timeout: 60_000,
          },
          (error, stdout, stderr) => {
            if (error && typeof error.code !== 'number') reject(error);
            else resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
          },
        );
      },
    );
    expect(child.stderr).toBe('');
    expect(child.code).toBe(1);
    const report = JSON.parse(child.stdout);
    expect(report).toMatchObject({
      account: 'main',
      status: 'alerting',
      balanceCents: 499,
      thresholdCents: 500,
      level: 'low',
    });
    expect(report.notifications[0].subject).toBe(
      'ngrok credits low (main): $4.99 left, threshold $5.00',
    );
    expect(child.stdout).not.toContain(KEY);
    expect(api.paths()).toContain('/credits/balance');
  });
});

describe('check: the checkout link', () => {
  it('says which checkout link an alert would carry, and creates none', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 499 } };
    api.script.usage = usageAt({ key_alpha: 310 });
    const { code, stdout } = await run(['check', '--threshold-cents', '500']);
    expect(code).toBe(1);
    // $3.10 a day for 7 days, rounded up to $5.
    expect(stdout).toContain('Would offer a checkout link for $25.00 (none was created)');
    expect(api.paths()).not.toContain('/credits/checkout-session');
  });

  it('takes --checkout-amount-cents, and reports the amount in JSON', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 499 } };
    const { stdout } = await run([
      'check',
      '--json',
      '--threshold-cents',
      '500',
      '--checkout-amount-cents',
      '4000',
    ]);
    expect(JSON.parse(stdout).checkoutLinkCents).toBe(4000);
  });

  it('offers none for a healthy balance, or when auto top-up would buy', async () => {
    api.script.balance = { status: 200, body: { balanceCents: 5000 } };
    expect((await run(['check'])).stdout).not.toContain('checkout link');
    api.script.balance = { status: 200, body: { balanceCents: 499 } };
    const topUp = await run([
      'check',
      '--threshold-cents',
      '500',
      '--auto-top-up-cents',
      '2000',
      '--auto-top-up-monthly-cap-cents',
      '6000',
    ]);
    expect(topUp.stdout).not.toContain('checkout link');
  });
});
