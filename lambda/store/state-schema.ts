/**
 * What a saved alert state may hold, checked part by part when it is read. Anyone who can
 * write the table can put anything in it; a part that fails its schema is dropped and
 * treated as lost, which only ever makes the monitor more careful: a lost alert level
 * alerts again, a lost snooze holds nothing, lost readings only delay a forecast.
 */
import * as v from 'valibot';
import { LEVELS } from '../common/types.ts';
import { isHttpsUrl } from '../ngrok/checkout.ts';

/** A snooze may end at most this long after the run that reads it (the command's limit). */
export const MAX_SNOOZE_AHEAD_MS = 14 * 24 * 3_600_000;
/** Clocks of the command and the run may differ by this much. */
const CLOCK_SKEW_MS = 5 * 60_000;

const isoTime = v.pipe(
  v.string(),
  v.maxLength(40),
  v.check((s) => !Number.isNaN(Date.parse(s)), 'not a date and time'),
);
const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000));
const cents = v.pipe(v.number(), v.finite(), v.minValue(-1e12), v.maxValue(1e12));
const nonNegativeCents = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1e12));
const epochSeconds = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1e11));
const level = v.picklist(LEVELS);
const sample = v.tuple([epochSeconds, cents]);

const week = v.object({
  week: v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/)),
  startCents: v.optional(cents),
  lastCents: v.optional(cents),
  spentCents: nonNegativeCents,
  addedCents: nonNegativeCents,
  alerts: count,
  topUps: count,
});

const topSpender = v.object({
  accessKey: v.pipe(v.string(), v.maxLength(200)),
  name: v.optional(v.pipe(v.string(), v.maxLength(200))),
  costCents: nonNegativeCents,
  share: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
});

/** Each part of the state, with the schema it must pass to be kept. */
export const STATE_PARTS = {
  core: v.object({
    level,
    reason: v.picklist(['balance', 'runway']),
    since: isoTime,
    lastNotifiedAt: v.optional(isoTime),
    lastBalanceCents: v.optional(cents),
    failures: count,
    failureSince: v.optional(isoTime),
    failureNotifiedAt: v.optional(isoTime),
    failureKind: v.optional(v.picklist(['auth', 'missing-key', 'transient'])),
    reportedConfigProblems: v.optional(v.pipe(v.string(), v.maxLength(8_192))),
    lastEventId: v.optional(v.pipe(v.string(), v.maxLength(512))),
  }),
  history: v.pipe(v.array(sample), v.maxLength(500)),
  usage: v.object({
    fetchedAt: isoTime,
    dailySpendCents: nonNegativeCents,
    windowDays: v.pipe(v.number(), v.gtValue(0), v.maxValue(400)),
    topSpenders: v.pipe(v.array(topSpender), v.maxLength(10)),
  }),
  snooze: v.object({
    until: isoTime,
    note: v.optional(v.pipe(v.string(), v.maxLength(140))),
    level,
    heldFailure: v.optional(v.literal(true)),
  }),
  week,
  closedWeek: week,
  expiry: v.object({
    readOn: v.optional(v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/))),
    warned: v.optional(
      v.pipe(v.array(v.tuple([epochSeconds, epochSeconds, v.picklist([1, 2])])), v.maxLength(200)),
    ),
  }),
  recent: v.pipe(v.array(sample), v.maxLength(50)),
  spike: v.object({
    since: isoTime,
    levelCentsPerHour: nonNegativeCents,
    lastNotifiedAt: isoTime,
    belowSince: v.optional(isoTime),
  }),
  keyNames: v.object({
    fetchedAt: v.optional(isoTime),
    failedAt: v.optional(isoTime),
    names: v.pipe(
      v.record(v.pipe(v.string(), v.maxLength(200)), v.pipe(v.string(), v.maxLength(200))),
      v.check((names) => Object.keys(names).length <= 50, 'too many names'),
    ),
  }),
  checkout: v.object({
    episodeSince: isoTime,
    link: v.optional(
      v.object({
        url: v.pipe(
          v.string(),
          v.maxLength(2_048),
          v.check((u) => isHttpsUrl(u), 'not an https URL'),
        ),
        amountCents: v.pipe(v.number(), v.integer(), v.minValue(500), v.maxValue(1_000_000)),
        createdAt: isoTime,
        expiresAt: isoTime,
      }),
    ),
  }),
} as const;

/** Why a part was dropped, in words for the log and the notice: never the value itself. */
export function checkPart(
  part: keyof typeof STATE_PARTS,
  value: unknown,
  now: Date | undefined,
): { ok: true; value: unknown } | { ok: false; problem: string } {
  const result = v.safeParse(STATE_PARTS[part], value);
  if (!result.success) {
    // The schema's name for what failed, never the value or a key: both may be anyone's text.
    return {
      ok: false,
      problem: `saved ${part}: failed the ${result.issues[0]?.type ?? ''} check`,
    };
  }
  if (part === 'snooze' && now !== undefined) {
    const until = Date.parse((result.output as { until: string }).until);
    if (until > now.getTime() + MAX_SNOOZE_AHEAD_MS + CLOCK_SKEW_MS) {
      return { ok: false, problem: 'saved snooze: ends more than 14 days from now' };
    }
  }
  return { ok: true, value: result.output };
}
