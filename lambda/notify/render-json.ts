/**
 * The structured notification, version 2: the contract for Lambda and SQS subscribers and
 * webhook receivers, described by schemas/notification-v2.schema.json (the tests validate
 * every rendering against it). It carries the numbers, the rendered subject and text, and
 * the content itself, so a channel renders from data and never parses text. Pure.
 *
 * Compatible changes (a new optional field, a new kind) keep version 2; anything that
 * removes or changes the meaning of a field is version 3.
 */

import type {
  CheckFailureKind,
  ConfigProblem,
  Level,
  LevelReason,
  Notification,
  NotificationKind,
  PayLink,
  SpikeReport,
} from '../common/types.ts';
import type { StopReason } from '../watches/top-up/decide.ts';
import type { Content, Link, NotificationEvent, Severity } from './content.ts';
import { MAX_CONFIG_PROBLEMS } from './content.ts';
import { truncate as cut, formatRunway } from './format.ts';
import { plainText } from './inert.ts';
import { formatRunwayText } from './runway-text.ts';

export const NOTIFICATION_SCHEMA_V2 = 'ngrok-balance-alert.notification.v2';

export interface TopSpenderV2 {
  readonly accessKey: string;
  /** The key's display name; null when it is not known. */
  readonly name: string | null;
  readonly costCents: number;
  readonly share: number;
}

export interface RunwayV2 {
  /**
   * Days the credits last at the faster of the recent and the long-term rate (what the
   * runway alert uses); null when nothing is being spent.
   */
  readonly days: number | null;
  /** The same in hours. */
  readonly hours: number | null;
  /** Which rate gave `days`: the recent one (the last runs) or the long-term average. */
  readonly basis: 'recent' | 'average';
  /** The recent rate in cents per hour; null when it could not be measured. */
  readonly recentCentsPerHour: number | null;
  /** The long-term rate; the recent rate per day when there is no long-term rate yet. */
  readonly dailySpendCents: number;
  readonly windowDays: number;
  readonly source: 'usage' | 'balance-history' | 'recent';
  /** The same, in words. */
  readonly text: string;
}

/** A spend spike, on the spike kinds. */
export type SpikeV2 = Omit<SpikeReport, 'drivers' | 'driversNote'> & {
  readonly drivers: readonly {
    readonly accessKey: string;
    readonly name: string | null;
    readonly todayCentsPerHour: number;
    readonly averageCentsPerHour: number;
  }[];
  readonly driversNote: string | null;
};

export interface NotificationV2 {
  readonly schema: typeof NOTIFICATION_SCHEMA_V2;
  readonly version: 2;
  readonly kind: NotificationKind;
  readonly event: NotificationEvent;
  readonly severity: Severity;
  readonly dedupKey: string;
  readonly test: boolean;
  readonly account: string;
  readonly level: Level;
  readonly reason: LevelReason;
  readonly previousLevel: Level | null;
  readonly balanceCents: number | null;
  readonly thresholdCents: number;
  readonly criticalThresholdCents: number | null;
  readonly recoveryMarginCents: number;
  readonly runway: RunwayV2 | null;
  /** Why there is no runway, when there is none and the monitor knows why. */
  readonly runwayNote: string | null;
  readonly topSpenders: readonly TopSpenderV2[];
  /** The spike a spike notification is about; null on the other kinds. */
  readonly spike: SpikeV2 | null;
  readonly failure: { readonly kind: CheckFailureKind; readonly message: string } | null;
  readonly consecutiveFailures: number | null;
  /** When the current problem started (ISO 8601). */
  readonly since: string | null;
  readonly configProblems: readonly ConfigProblem[];
  readonly links: readonly Link[];
  readonly subject: string;
  readonly text: string;
  readonly content: Content;
  /** When auto top-up is on: what it is doing, and on the top-up kinds, the purchase. */
  readonly autoTopUp?: AutoTopUpV2;
  /** The checkout page of an alert that carries one (https checked; see content.ts). */
  readonly payLink?: PayLink;
  /** ISO 8601 time of the run that produced it. */
  readonly at: string;
}

export interface AutoTopUpV2 {
  readonly status?: string;
  readonly amountCents?: number;
  readonly capCents?: number;
  readonly monthTotalCents?: number;
  readonly purchaseId?: string;
  readonly failureCode?: string;
  readonly failureMessage?: string;
  readonly consecutiveFailures?: number;
  readonly stopReason?: StopReason;
}

/** Text from outside, cut to `cap`, without the characters that would change how it reads. */
function truncate(text: string, cap: number): string {
  return cut(plainText(text), cap);
}

/** Renders the version 2 structured notification. `cap` cuts free text from outside. */
export function renderJson(
  n: Notification,
  content: Content,
  rendered: { readonly subject: string; readonly text: string },
  cap: number,
): NotificationV2 {
  const f = n.forecast;
  return {
    schema: NOTIFICATION_SCHEMA_V2,
    version: 2,
    kind: n.kind,
    event: content.event,
    severity: content.severity,
    dedupKey: content.dedupKey,
    test: content.test,
    account: n.account,
    level: n.level,
    reason: n.reason,
    previousLevel: n.previousLevel ?? null,
    balanceCents: n.balanceCents ?? null,
    thresholdCents: n.thresholds.thresholdCents,
    criticalThresholdCents: n.thresholds.criticalThresholdCents ?? null,
    recoveryMarginCents: n.thresholds.recoveryMarginCents,
    runway: runwayV2(n),
    runwayNote:
      !f && !n.runway && n.forecastNote !== undefined ? truncate(n.forecastNote, cap) : null,
    topSpenders: (f?.topSpenders ?? []).map((s) => ({
      accessKey: truncate(s.accessKey, cap),
      name: s.name === undefined ? null : truncate(s.name, cap),
      costCents: s.costCents,
      share: s.share,
    })),
    spike: n.spike
      ? {
          ...n.spike,
          drivers: n.spike.drivers.map((d) => ({
            accessKey: truncate(d.accessKey, cap),
            name: d.name === undefined ? null : truncate(d.name, cap),
            todayCentsPerHour: d.todayCentsPerHour,
            averageCentsPerHour: d.averageCentsPerHour,
          })),
          driversNote:
            n.spike.driversNote === undefined ? null : truncate(n.spike.driversNote, cap),
        }
      : null,
    failure: n.failure ? { kind: n.failure.kind, message: truncate(n.failure.message, cap) } : null,
    consecutiveFailures: n.consecutiveFailures ?? null,
    since: n.since ?? null,
    configProblems: n.configProblems.slice(0, MAX_CONFIG_PROBLEMS).map((p) => ({
      parameterName: truncate(p.parameterName, cap),
      message: truncate(p.message, cap),
    })),
    links: content.links,
    subject: rendered.subject,
    text: rendered.text,
    content,
    ...((n.topUp !== undefined || n.topUpStatus !== undefined) && {
      autoTopUp: autoTopUpOf(n, cap),
    }),
    ...(content.payLink && {
      payLink: {
        url: content.payLink.url,
        amountCents: content.payLink.amountCents,
        expiresAt: content.payLink.expiresAt,
      },
    }),
    at: n.at,
  };
}

function autoTopUpOf(n: Notification, cap: number): AutoTopUpV2 {
  const t = n.topUp;
  const text = (value: string | undefined) =>
    value === undefined ? undefined : truncate(value, cap);
  const fields: AutoTopUpV2 = {
    status: text(n.topUpStatus),
    amountCents: t?.amountCents,
    capCents: t?.capCents,
    monthTotalCents: t?.monthTotalCents,
    purchaseId: text(t?.purchaseId),
    failureCode: text(t?.failureCode),
    failureMessage: text(t?.failureMessage),
    consecutiveFailures: t?.consecutiveFailures,
    stopReason: t?.stopReason,
  };
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined),
  ) as AutoTopUpV2;
}

/** The runway: the shorter of the two rates' when a recent rate is known, else the forecast's. */
function runwayV2(n: Notification): RunwayV2 | null {
  const f = n.forecast;
  const r = n.runway;
  const recent = r?.recent.known ? r.recent : undefined;
  if (r && recent) {
    return {
      days: r.hours === null ? null : r.hours / 24,
      hours: r.hours,
      basis: r.basis,
      recentCentsPerHour: recent.centsPerHour,
      dailySpendCents: f?.dailySpendCents ?? recent.centsPerHour * 24,
      windowDays: f?.windowDays ?? recent.windowMinutes / 1440,
      source: f?.source ?? 'recent',
      text: formatRunwayText(r),
    };
  }
  if (!f) return null;
  return {
    days: f.runwayDays,
    hours: f.runwayDays === null ? null : f.runwayDays * 24,
    basis: 'average',
    recentCentsPerHour: null,
    dailySpendCents: f.dailySpendCents,
    windowDays: f.windowDays,
    source: f.source,
    text: formatRunway(f),
  };
}
