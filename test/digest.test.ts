import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { Forecast, NotificationKind } from '../lambda/common/types.ts';
import { DEFAULTS } from '../lambda/config/contract.ts';
import {
  advanceWeek,
  buildDigest,
  COUNTED_AS_ALERT,
  type DigestSettings,
  digestDue,
  digestSlot,
  type WeekRecord,
  weekKey,
} from '../lambda/watches/digest.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const weekly: DigestSettings = {
  digest: DEFAULTS.digest,
  digestDay: DEFAULTS.digestDay,
  digestHourUtc: DEFAULTS.digestHourUtc,
};
/** Monday 2026-11-30, the default digest time. */
const SLOT = new Date('2026-11-30T09:00:00Z');
const at = (hours: number) => new Date(SLOT.getTime() + hours * HOUR);

const record = (fields: Partial<WeekRecord> = {}): WeekRecord => ({
  week: '2026-11-23',
  startCents: 10_000,
  lastCents: 10_000,
  spentCents: 0,
  addedCents: 0,
  alerts: 0,
  topUps: 0,
  ...fields,
});

describe('digestSlot and weekKey', () => {
  const cases: Array<{
    name: string;
    now: string;
    settings?: Partial<DigestSettings>;
    slot: string;
  }> = [
    {
      name: 'at the digest time itself',
      now: '2026-11-30T09:00:00Z',
      slot: '2026-11-30T09:00:00.000Z',
    },
    { name: 'a second before it', now: '2026-11-30T08:59:59Z', slot: '2026-11-23T09:00:00.000Z' },
    { name: 'later that Monday', now: '2026-11-30T23:59:59Z', slot: '2026-11-30T09:00:00.000Z' },
    { name: 'on Sunday night', now: '2026-12-06T23:59:59Z', slot: '2026-11-30T09:00:00.000Z' },
    { name: 'mid-week', now: '2026-12-02T12:00:00Z', slot: '2026-11-30T09:00:00.000Z' },
    {
      name: 'across a year end',
      now: '2027-01-01T00:00:00Z',
      slot: '2026-12-28T09:00:00.000Z',
    },
    {
      name: 'a Friday slot at midnight UTC',
      now: '2026-12-04T00:00:00Z',
      settings: { digestDay: 'friday', digestHourUtc: 0 },
      slot: '2026-12-04T00:00:00.000Z',
    },
    {
      name: 'a Sunday slot at 23:00 seen on Sunday at 22:59',
      now: '2026-12-06T22:59:00Z',
      settings: { digestDay: 'sunday', digestHourUtc: 23 },
      slot: '2026-11-29T23:00:00.000Z',
    },
    {
      name: 'a Saturday slot seen on Sunday',
      now: '2026-12-06T01:00:00Z',
      settings: { digestDay: 'saturday', digestHourUtc: 9 },
      slot: '2026-12-05T09:00:00.000Z',
    },
  ];

  it.each(cases)('finds the latest digest time $name', ({ now, settings, slot }) => {
    const s = { ...weekly, ...settings };

    expect(digestSlot(s, new Date(now)).toISOString()).toBe(slot);
    expect(weekKey(s, new Date(now))).toBe(slot.slice(0, 10));
  });

  it.each([
    ['Europe, spring forward', '2026-03-29'],
    ['Europe, fall back', '2026-10-25'],
    ['United States, spring forward', '2026-03-08'],
    ['United States, fall back', '2026-11-01'],
  ])('keeps the digest at 09:00 UTC across daylight saving changes (%s)', (_name, sunday) => {
    // Prepare: the Monday after the change.
    const monday = Date.parse(`${sunday}T00:00:00Z`) + DAY;

    // Act
    const before = digestSlot(weekly, new Date(monday + 9 * HOUR - 1));
    const after = digestSlot(weekly, new Date(monday + 9 * HOUR));

    // Assess
    expect(after.getTime() - before.getTime()).toBe(7 * DAY);
    expect(after.toISOString()).toBe(new Date(monday + 9 * HOUR).toISOString());
  });

  propertyTest.prop([
    fc.date({
      min: new Date('2020-01-01T00:00:00Z'),
      max: new Date('2040-01-01T00:00:00Z'),
      noInvalidDate: true,
    }),
    fc.constantFrom(...(['sunday', 'monday', 'wednesday', 'saturday'] as const)),
    fc.integer({ min: 0, max: 23 }),
  ])(
    'is the digest time within the last week, on the right day and hour',
    (now, digestDay, digestHourUtc) => {
      const settings = { digest: 'weekly' as const, digestDay, digestHourUtc };

      const slot = digestSlot(settings, now);

      expect(slot.getTime()).toBeLessThanOrEqual(now.getTime());
      expect(now.getTime() - slot.getTime()).toBeLessThan(7 * DAY);
      expect(slot.getUTCDay()).toBe(
        ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].indexOf(
          digestDay,
        ),
      );
      expect(slot.getUTCHours()).toBe(digestHourUtc);
      expect(slot.getUTCMinutes() + slot.getUTCSeconds() + slot.getUTCMilliseconds()).toBe(0);
    },
  );
});

describe('digestDue', () => {
  it('is due at the first run after the digest time when the saved week is older', () => {
    expect(digestDue(weekly, [record({ week: '2026-11-23' })], at(0))).toBe(true);
  });

  it('is not due before the digest time', () => {
    expect(digestDue(weekly, [record({ week: '2026-11-23' })], at(-0.25))).toBe(false);
  });

  it('is not due again once the week is saved (a retried or redelivered run)', () => {
    expect(digestDue(weekly, [record({ week: '2026-11-30' })], at(0.25))).toBe(false);
  });

  it('is not due when any account already saved this week (saves that partly failed)', () => {
    expect(
      digestDue(weekly, [record({ week: '2026-11-23' }), record({ week: '2026-11-30' })], at(1)),
    ).toBe(false);
  });

  it('is due when every account saved an older week, an account added since included', () => {
    expect(digestDue(weekly, [record({ week: '2026-11-16' }), undefined, record()], at(1))).toBe(
      true,
    );
  });

  it('is not due at a first deployment: it starts collecting first', () => {
    expect(digestDue(weekly, [undefined, undefined], at(1))).toBe(false);
    expect(digestDue(weekly, [], at(1))).toBe(false);
  });

  it('is never due when the digest is off', () => {
    expect(digestDue({ ...weekly, digest: 'off' }, [record({ week: '2026-01-05' })], at(1))).toBe(
      false,
    );
  });
});

describe('advanceWeek', () => {
  it('starts a record at the first run, with nothing to close', () => {
    const result = advanceWeek(
      undefined,
      { balanceCents: 5000, sent: ['balance-alert'] },
      weekly,
      at(50),
    );

    expect(result).toEqual({
      record: {
        week: '2026-11-30',
        startCents: 5000,
        lastCents: 5000,
        spentCents: 0,
        addedCents: 0,
        alerts: 1,
        topUps: 0,
      },
      closed: undefined,
    });
  });

  it('starts a record without a balance when the first run cannot read one', () => {
    const result = advanceWeek(undefined, { sent: [] }, weekly, at(50));

    expect(result.record).toEqual({
      week: '2026-11-30',
      startCents: undefined,
      lastCents: undefined,
      spentCents: 0,
      addedCents: 0,
      alerts: 0,
      topUps: 0,
    });
  });

  it('adds falls of the balance to the spend and rises to the credit added', () => {
    let current = record({ week: '2026-11-30', startCents: 5000, lastCents: 5000 });

    for (const balanceCents of [4800, 4500, 9500, 9000]) {
      current = advanceWeek(current, { balanceCents, sent: [] }, weekly, at(1))
        .record as WeekRecord;
    }

    expect(current).toEqual(
      record({
        week: '2026-11-30',
        startCents: 5000,
        lastCents: 9000,
        spentCents: 1000,
        addedCents: 5000,
      }),
    );
  });

  it('keeps the totals when the balance cannot be read', () => {
    const current = record({ week: '2026-11-30', spentCents: 300 });

    const result = advanceWeek(current, { sent: ['monitor-failing'] }, weekly, at(1));

    expect(result.record).toEqual({ ...current, alerts: 1 });
  });

  it('takes the first balance of a week that began without one', () => {
    const current = record({ week: '2026-11-30', startCents: undefined, lastCents: undefined });

    const result = advanceWeek(current, { balanceCents: 700, sent: [] }, weekly, at(1));

    expect(result.record).toEqual({ ...current, startCents: 700, lastCents: 700 });
  });

  it('counts alerts per COUNTED_AS_ALERT and the top-ups it is told about', () => {
    const current = record({ week: '2026-11-30', alerts: 2, topUps: 1 });
    const sent: NotificationKind[] = [
      'balance-alert',
      'balance-reminder',
      'monitor-failing',
      'balance-recovered',
    ];

    const result = advanceWeek(current, { balanceCents: 10_000, sent, topUps: 2 }, weekly, at(1));

    expect(result.record).toEqual({ ...current, alerts: 4, topUps: 3 });
  });

  it('closes the finished week with this run balance and starts the next from it', () => {
    const current = record({
      week: '2026-11-23',
      startCents: 10_000,
      lastCents: 7000,
      spentCents: 3000,
      alerts: 1,
    });

    const result = advanceWeek(
      current,
      { balanceCents: 6500, sent: ['balance-alert'], topUps: 1 },
      weekly,
      at(0),
    );

    expect(result.closed).toEqual({ ...current, lastCents: 6500, spentCents: 3500 });
    expect(result.record).toEqual({
      week: '2026-11-30',
      startCents: 6500,
      lastCents: 6500,
      spentCents: 0,
      addedCents: 0,
      alerts: 1,
      topUps: 1,
    });
  });

  it('starts the next week from the last balance known when this run cannot read one', () => {
    const current = record({ week: '2026-11-23', lastCents: 7000 });

    const result = advanceWeek(current, { sent: [] }, weekly, at(0));

    expect(result.record?.startCents).toBe(7000);
    expect(result.closed).toEqual(current);
  });

  it('keeps nothing when the digest is off', () => {
    expect(
      advanceWeek(record(), { balanceCents: 1, sent: [] }, { ...weekly, digest: 'off' }, at(0)),
    ).toEqual({
      record: undefined,
    });
  });

  it('counts only alerts (a spike that starts is one), never reminders, recoveries or tests', () => {
    const counted = Object.entries(COUNTED_AS_ALERT)
      .filter(([, yes]) => yes)
      .map(([kind]) => kind);

    expect(counted).toEqual(['balance-alert', 'monitor-failing', 'spike-started']);
  });
});

/** Simulates the monitor's digest steps for one account at every run time given. */
function simulate(times: readonly Date[], settings: DigestSettings = weekly, initial?: WeekRecord) {
  let saved = initial;
  const digests: string[] = [];
  for (const now of times) {
    const due = digestDue(settings, [saved], now);
    const { record: next, closed } = advanceWeek(
      saved,
      { balanceCents: 1000, sent: [] },
      settings,
      now,
    );
    if (due) {
      digests.push(
        buildDigest(settings, [{ account: 'main', level: 'ok', balanceCents: 1000, closed }], now)
          .to,
      );
    }
    saved = next;
  }
  return digests;
}

const every = (minutes: number, from: Date, hours: number) =>
  Array.from(
    { length: (hours * 60) / minutes },
    (_, i) => new Date(from.getTime() + i * minutes * 60_000),
  );

describe('the digest over weeks of runs', () => {
  it('sends exactly one digest in eight days of 15-minute runs', () => {
    // Prepare: deployed on Wednesday; a week later the Monday digest time passes once.
    const runs = every(15, new Date('2026-11-25T14:07:00Z'), 8 * 24);

    // Act
    const digests = simulate(runs);

    // Assess
    expect(digests).toEqual(['2026-11-30T09:00:00.000Z']);
  });

  it('sends the first digest at the first digest time after deployment, even on deployment day', () => {
    const digests = simulate(every(15, new Date('2026-11-30T08:00:00Z'), 2));

    expect(digests).toEqual(['2026-11-30T09:00:00.000Z']);
  });

  it('sends one digest a week for five weeks', () => {
    const digests = simulate(every(60, new Date('2026-11-24T00:00:00Z'), 5 * 7 * 24));

    expect(digests).toEqual([
      '2026-11-30T09:00:00.000Z',
      '2026-12-07T09:00:00.000Z',
      '2026-12-14T09:00:00.000Z',
      '2026-12-21T09:00:00.000Z',
      '2026-12-28T09:00:00.000Z',
    ]);
  });

  it('still sends when the first run after the digest time is three hours late', () => {
    const runs = [at(-1), at(3), at(3.25)];

    const digests = simulate(runs, weekly, record({ week: '2026-11-23' }));

    expect(digests).toEqual(['2026-11-30T09:00:00.000Z']);
  });

  it('sends once at the next run after a week with no run at all, covering the whole gap', () => {
    // Prepare: the last run was in the week of 2026-11-16; nothing ran on 2026-11-23.
    const saved = record({ week: '2026-11-16' });

    // Act
    const sent: string[] = [];
    let current: WeekRecord | undefined = saved;
    for (const now of [at(30), at(30.25), at(31)]) {
      const due = digestDue(weekly, [current], now);
      const { record: next, closed } = advanceWeek(
        current,
        { balanceCents: 500, sent: [] },
        weekly,
        now,
      );
      if (due) {
        const digest = buildDigest(weekly, [{ account: 'main', level: 'ok', closed }], now);
        sent.push(`${digest.from} ${digest.to}`);
      }
      current = next;
    }

    // Assess
    expect(sent).toEqual(['2026-11-16T09:00:00.000Z 2026-11-30T09:00:00.000Z']);
  });

  it('sends again when a run that sent it is retried before its state was saved', () => {
    // Publish comes before save: a run that failed to save is a run that did not happen.
    const saved = record({ week: '2026-11-23' });

    expect(digestDue(weekly, [saved], at(0))).toBe(true);
    expect(digestDue(weekly, [saved], at(0.01))).toBe(true);
  });

  it('does not send twice when the digest day moves earlier in the week', () => {
    // Prepare: Monday's digest went out, then the setting changed to Sunday.
    const sunday = { ...weekly, digestDay: 'sunday' as const };
    const saved = record({ week: '2026-11-30' });

    // Act / Assess: the Sunday before is an older slot; the next Sunday is news.
    expect(digestDue(sunday, [saved], new Date('2026-12-01T09:00:00Z'))).toBe(false);
    expect(digestDue(sunday, [saved], new Date('2026-12-06T09:00:00Z'))).toBe(true);
  });
});

describe('buildDigest', () => {
  const forecast: Forecast = {
    source: 'usage',
    dailySpendCents: 1000,
    windowDays: 7,
    runwayDays: 6.5,
    topSpenders: [
      { accessKey: 'ak_prod', costCents: 5000, share: 0.7 },
      { accessKey: 'ak_test', costCents: 2000, share: 0.3 },
    ],
  };

  it('summarises each account: balance now and a week ago, spend, alerts, runway, snooze', () => {
    // Prepare
    const closed = record({
      week: '2026-11-23',
      startCents: 13_000,
      lastCents: 6500,
      spentCents: 7000,
      addedCents: 500,
      alerts: 2,
      topUps: 1,
    });

    // Act
    const digest = buildDigest(
      weekly,
      [
        {
          account: 'main',
          level: 'low',
          balanceCents: 6500,
          closed,
          forecast,
          snooze: { until: '2026-12-01T09:00:00.000Z', note: 'top-up approved' },
        },
        { account: 'backup', level: 'ok', balanceCents: undefined },
      ],
      at(0.1),
    );

    // Assess
    expect(digest).toEqual({
      kind: 'weekly-digest',
      from: '2026-11-23T09:00:00.000Z',
      to: '2026-11-30T09:00:00.000Z',
      at: at(0.1).toISOString(),
      accounts: [
        {
          account: 'main',
          level: 'low',
          balanceCents: 6500,
          weekAgoCents: 13_000,
          week: { spentCents: 7000, addedCents: 500, alerts: 2, topUps: 1 },
          forecast,
          snooze: { until: '2026-12-01T09:00:00.000Z', note: 'top-up approved' },
        },
        {
          account: 'backup',
          level: 'ok',
          balanceCents: undefined,
          weekAgoCents: undefined,
          week: undefined,
        },
      ],
    });
  });

  it('covers the last seven days when no account has a closed week', () => {
    const digest = buildDigest(weekly, [], at(2));

    expect([digest.from, digest.to]).toEqual([
      '2026-11-23T09:00:00.000Z',
      '2026-11-30T09:00:00.000Z',
    ]);
  });

  it('starts at the earliest closed week among the accounts', () => {
    const digest = buildDigest(
      weekly,
      [
        { account: 'a', level: 'ok', closed: record({ week: '2026-11-23' }) },
        { account: 'b', level: 'ok', closed: record({ week: '2026-11-16' }) },
        { account: 'c', level: 'ok', closed: record({ week: '2026-11-23' }) },
      ],
      at(2),
    );

    expect(digest.from).toBe('2026-11-16T09:00:00.000Z');
  });
});

describe('the week record in saved state', () => {
  it('stays around 130 bytes, even with large balances and counts', () => {
    const big = record({
      startCents: 99_999_999,
      lastCents: 99_999_999,
      spentCents: 99_999_999,
      addedCents: 99_999_999,
      alerts: 999,
      topUps: 999,
    });

    expect(Buffer.byteLength(JSON.stringify({ week: big }))).toBeLessThanOrEqual(150);
  });
});
