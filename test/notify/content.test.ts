import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LEVELS,
  NOTIFICATION_KINDS,
  type Notification,
  type NotificationKind,
} from '../../lambda/common/types.ts';
import { buildContent, dedupKey, describeLevel } from '../../lambda/notify/content.ts';

const base: Notification = {
  kind: 'balance-alert',
  account: 'prod',
  level: 'low',
  reason: 'balance',
  balanceCents: 499,
  thresholds: { thresholdCents: 1000, recoveryMarginCents: 100 },
  thresholdParameterName: '/ngrok-balance-alert/prod/threshold-cents',
  tokenParameterName: '/ngrok-balance-alert/prod/api-key',
  configProblems: [],
  at: '2025-06-02T09:00:00.000Z',
  // The parts of the kinds that carry more than the balance; the other kinds ignore them.
  snooze: { until: '2025-06-03T09:00:00.000Z', note: 'top-up approved' },
  digest: {
    kind: 'weekly-digest',
    from: '2025-05-26T09:00:00.000Z',
    to: '2025-06-02T09:00:00.000Z',
    at: '2025-06-02T09:00:00.000Z',
    accounts: [{ account: 'prod', level: 'low', balanceCents: 499 }],
  },
  expiry: {
    amountCents: 3000,
    category: 'purchase',
    createdAt: '2024-12-10T08:00:00.000Z',
    expiresAt: '2025-12-10T08:00:00.000Z',
    final: false,
  },
};

const build = (n: Partial<Notification>) =>
  buildContent({ ...base, ...n }, { region: 'eu-west-1', freeTextCap: 4_000 });

const BALANCE_KINDS: readonly NotificationKind[] = [
  'balance-alert',
  'balance-reminder',
  'balance-improved',
  'balance-recovered',
];
const MONITOR_KINDS: readonly NotificationKind[] = [
  'monitor-failing',
  'monitor-reminder',
  'monitor-recovered',
];

describe('buildContent', () => {
  it.each(NOTIFICATION_KINDS)('says what happened and what to do for %s', (kind) => {
    // Act
    const content = build({ kind });

    // Assess
    expect(content.kind).toBe(kind);
    expect(content.headline.length).toBeGreaterThan(20);
    // The digest has a line per account, labelled with the account's name.
    expect(content.facts[0]?.label).toBe(kind === 'weekly-digest' ? 'prod' : 'Account');
    expect(content.steps.length).toBeGreaterThan(0);
    expect(content.links[0]?.url).toBe('https://app.ngrok.ai/credits');
    expect(content.title.before + content.label + content.title.after).toContain('(prod)');
  });

  it('opens, keeps and closes a problem: trigger, then resolve on recovery', () => {
    const events = Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, build({ kind: k }).event]));
    expect(events).toEqual({
      'balance-alert': 'trigger',
      'balance-reminder': 'trigger',
      'balance-improved': 'trigger',
      'balance-recovered': 'resolve',
      'monitor-failing': 'trigger',
      'monitor-reminder': 'trigger',
      'monitor-recovered': 'resolve',
      'config-problem': 'info',
      test: 'info',
      'top-up-started': 'info',
      'top-up-succeeded': 'resolve',
      'top-up-failed': 'trigger',
      'top-up-action-required': 'trigger',
      'top-up-pending-long': 'info',
      'top-up-capped': 'info',
      'top-up-stopped': 'trigger',
      'top-up-dry-run': 'info',
      'snooze-set': 'info',
      'snooze-ended': 'info',
      'weekly-digest': 'info',
      'credit-expiry': 'info',
      'spike-started': 'trigger',
      'spike-reminder': 'trigger',
      'spike-ended': 'resolve',
    });
  });

  it('grades a failed top-up at least as urgently as the balance, apart from the balance incident', () => {
    // Act
    const severities = LEVELS.map((level) => build({ kind: 'top-up-failed', level }).severity);
    const stopped = LEVELS.map((level) => build({ kind: 'top-up-stopped', level }).severity);
    // Assess
    expect(severities).toEqual(['error', 'error', 'error', 'critical']);
    expect(stopped).toEqual(['error', 'error', 'error', 'critical']);
    expect(build({ kind: 'top-up-action-required', level: 'ok' }).severity).toBe('warning');
    expect(build({ kind: 'top-up-failed' }).dedupKey).toMatch(/\/top-up$/);
    expect(build({ kind: 'top-up-failed' }).dedupKey).not.toBe(
      build({ kind: 'balance-alert' }).dedupKey,
    );
  });

  it('says what auto top-up is doing in a balance alert when it is on', () => {
    const facts = build({ kind: 'balance-alert', topUpStatus: 'auto top-up: buying $20.00' }).facts;
    expect(facts).toContainEqual({ label: 'Auto top-up', value: 'buying $20.00' });
    expect(build({ kind: 'balance-alert' }).facts.map((f) => f.label)).not.toContain('Auto top-up');
  });

  it('gives a spike a problem key of its own, shared by its alert, reminders and end', () => {
    const keys = (['spike-started', 'spike-reminder', 'spike-ended'] as const).map(
      (kind) => build({ kind }).dedupKey,
    );
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/\/spike$/);
    expect(keys[0]).not.toBe(build({ kind: 'balance-alert' }).dedupKey);
  });

  it('grades a balance problem by its level, and a monitor failure as an error', () => {
    const severities = LEVELS.map((level) => build({ kind: 'balance-alert', level }).severity);
    expect(severities).toEqual(['info', 'warning', 'error', 'critical']);
    expect(build({ kind: 'monitor-failing' }).severity).toBe('error');
    expect(build({ kind: 'balance-recovered', level: 'ok' }).severity).toBe('info');
    expect(build({ kind: 'test' }).tone).toBe('test');
  });

  it('words the less common variants: recovery to a problem, last-known balances, no start time', () => {
    // Prepare
    const long = `first line\n${'x'.repeat(400)}`;
    const subjectOf = (c: ReturnType<typeof build>) => c.title.before + c.label + c.title.after;

    // Act
    const backToLow = build({ kind: 'monitor-recovered', level: 'low' });
    const failing = build({
      kind: 'monitor-failing',
      failure: { kind: 'transient', message: long },
      since: '2025-06-02T06:00:00.000Z',
    });
    const silent = build({ kind: 'monitor-failing', failure: { kind: 'transient', message: '' } });
    const improved = build({ kind: 'balance-improved' });
    const reminder = build({ kind: 'balance-reminder' });
    const runwayCritical = build({
      kind: 'balance-alert',
      level: 'critical',
      reason: 'runway',
      balanceCents: 2500,
      forecast: {
        source: 'usage',
        dailySpendCents: 1316,
        windowDays: 7,
        runwayDays: 1.9,
        topSpenders: [],
      },
    });

    // Assess
    expect(backToLow.headline).toBe(
      'The monitor can read the ngrok AI Gateway credit balance for prod again. ' +
        'The balance is low: $4.99 left (warning threshold $10.00).',
    );
    expect(backToLow.stepsTitle).toBe('What to do');
    expect(failing.headline).toContain('for prod since 2025-06-02 06:00 UTC: first line xxx');
    expect(failing.headline).toContain('the last known level (low, $4.99) is not confirmed.');
    expect(failing.facts).toContainEqual({
      label: 'Balance',
      value: '$4.99 (last known, not confirmed)',
    });
    expect(failing.steps[0]?.note).toBe(`The monitor said: ${long}`);
    expect(subjectOf(failing)).toBe('ngrok monitor cannot read the balance (prod): check failing');
    expect(silent.headline).toContain(': no detail was given; it will keep retrying.');
    expect(silent.steps[0]?.note).toBeUndefined();
    expect(improved.headline).toBe(
      'The ngrok AI Gateway credit balance for prod improved, but it is still low: ' +
        '$4.99 left (warning threshold $10.00).',
    );
    expect(reminder.headline).toBe(
      'Reminder: the ngrok AI Gateway credit balance for prod is still low: ' +
        '$4.99 left (warning threshold $10.00).',
    );
    expect(subjectOf(runwayCritical)).toBe(
      'ngrok credits critical (prod): run out in about 1.9 days, $25.00 left',
    );
    expect(subjectOf(build({ kind: 'balance-improved', balanceCents: undefined }))).toBe(
      'ngrok credits improved, still low (prod): balance unknown',
    );
  });

  it('marks only the test notification as a test', () => {
    for (const kind of NOTIFICATION_KINDS) expect(build({ kind }).test).toBe(kind === 'test');
  });

  it('links the key page when the key is the problem', () => {
    const content = build({ kind: 'monitor-failing', failure: { kind: 'auth', message: '401' } });
    expect(content.links.map((l) => l.url)).toEqual([
      'https://app.ngrok.ai/credits',
      'https://app.ngrok.ai',
    ]);
  });

  it('lists configuration problems first only when they are the news', () => {
    const configProblems = [{ parameterName: '/p', message: 'bad' }];
    expect(build({ kind: 'config-problem', configProblems }).problems?.first).toBe(true);
    expect(build({ kind: 'balance-alert', configProblems }).problems?.first).toBe(false);
    expect(build({ kind: 'balance-alert' }).problems).toBeUndefined();
  });

  it('gives one store-the-cents step per broken parameter, with the region', () => {
    const content = build({
      kind: 'config-problem',
      configProblems: [
        { parameterName: '/a', message: 'bad' },
        { parameterName: '/a', message: 'bad again' },
        { parameterName: '/b', message: 'bad' },
      ],
    });
    const commands = content.steps.flatMap((s) => (s.command ? [s.command] : []));
    expect(commands).toEqual([
      'aws ssm put-parameter --region eu-west-1 --name /a --type String --value CENTS --overwrite',
      'aws ssm put-parameter --region eu-west-1 --name /b --type String --value CENTS --overwrite',
      'aws ssm put-parameter --region eu-west-1 --name /ngrok-balance-alert/prod/threshold-cents --type String --value 1000 --overwrite',
    ]);
  });
});

describe('dedupKey', () => {
  const account = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme' }));

  it('is one key for one account and problem, from trigger through reminders to resolve', () => {
    fc.assert(
      fc.property(
        account,
        fc.constantFrom(...BALANCE_KINDS),
        fc.constantFrom(...MONITOR_KINDS),
        (a, b, m) => {
          const at = '2025-06-02T09:00:00.000Z';
          expect(dedupKey({ kind: b, account: a, at })).toBe(
            dedupKey({ kind: 'balance-alert', account: a, at: '2030-01-01T00:00:00.000Z' }),
          );
          expect(dedupKey({ kind: m, account: a, at })).toBe(
            dedupKey({ kind: 'monitor-failing', account: a, at: '2030-01-01T00:00:00.000Z' }),
          );
          expect(dedupKey({ kind: b, account: a, at })).not.toBe(
            dedupKey({ kind: m, account: a, at }),
          );
        },
      ),
      { seed: 20_261_207 },
    );
  });

  it('is short printable ASCII whatever the account label', () => {
    fc.assert(
      fc.property(account, fc.constantFrom(...NOTIFICATION_KINDS), (a, kind) => {
        const key = dedupKey({ kind, account: a, at: '2025-06-02T09:00:00.000Z' });
        expect(key).toMatch(/^[\x21-\x7e]{1,255}$/);
      }),
      { seed: 20_261_207 },
    );
  });

  it('keeps two accounts apart, even when their labels slug alike', () => {
    const key = (a: string) => dedupKey({ kind: 'balance-alert', account: a, at: '' });
    expect(key('prod')).toBe('ngrok-balance-alert/prod/balance');
    expect(key('Zürich prod')).not.toBe(key('Zurich prod'));
    expect(key('Zürich prod')).toMatch(/^ngrok-balance-alert\/Zurich-prod-[0-9a-f]{8}\/balance$/);
  });

  it('gives each test run a key of its own, so a test never touches a real incident', () => {
    const first = dedupKey({ kind: 'test', account: 'prod', at: '2025-06-02T09:00:00.000Z' });
    const second = dedupKey({ kind: 'test', account: 'prod', at: '2025-06-02T09:05:00.000Z' });
    expect(first).not.toBe(second);
    expect(first.startsWith('ngrok-balance-alert/prod/test/')).toBe(true);
  });
});

describe('describeLevel', () => {
  const thresholds = { thresholdCents: 1000, recoveryMarginCents: 100 };

  it('says why the level is what it is', () => {
    expect(describeLevel({ level: 'ok', reason: 'balance', thresholds })).toBe('ok');
    expect(describeLevel({ level: 'low', reason: 'balance', balanceCents: 499, thresholds })).toBe(
      'low (below the warning threshold)',
    );
    expect(describeLevel({ level: 'low', reason: 'runway', balanceCents: 5000, thresholds })).toBe(
      'low (the credits are forecast to run out soon)',
    );
    expect(describeLevel({ level: 'critical', reason: 'balance', thresholds })).toBe(
      'critical (below the critical threshold)',
    );
    expect(describeLevel({ level: 'empty', reason: 'balance', thresholds })).toBe(
      'EMPTY: AI Gateway requests are being rejected',
    );
  });

  it('explains a low level held above the threshold until the recovery margin is cleared', () => {
    expect(describeLevel({ level: 'low', reason: 'balance', balanceCents: 1050, thresholds })).toBe(
      'low until the balance reaches $11.00 (the warning threshold plus the $1.00 recovery margin)',
    );
  });
});
