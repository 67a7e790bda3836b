/**
 * One readable notification per kind, plus the variants that change the wording: shared by
 * the renderer tests of every channel.
 */

import type { Forecast, Notification, PayLink } from '../../lambda/common/types.ts';
import type { Runway } from '../../lambda/observe/runway.ts';

/** The stack's region, as Lambda sets AWS_REGION. */
export const REGION = 'eu-west-1';

export const THRESHOLD_PARAM = '/ngrok-balance-alert/prod/threshold-cents';

export const forecast: Forecast = {
  source: 'usage',
  dailySpendCents: 310,
  windowDays: 7,
  runwayDays: 1.61,
  topSpenders: [
    { accessKey: 'ak_2abcDEF123', costCents: 1240, share: 0.62 },
    { accessKey: 'ak_2ghiJKL456', costCents: 560, share: 0.28 },
    { accessKey: 'ak_2mnoPQR789', costCents: 200, share: 0.1 },
  ],
};

export const base: Notification = {
  kind: 'balance-alert',
  account: 'prod',
  level: 'low',
  reason: 'balance',
  previousLevel: 'ok',
  balanceCents: 499,
  thresholds: { thresholdCents: 1000, criticalThresholdCents: 200, recoveryMarginCents: 100 },
  thresholdParameterName: THRESHOLD_PARAM,
  tokenParameterName: '/ngrok-balance-alert/api-key',
  forecast,
  configProblems: [],
  at: '2025-06-02T09:00:00.000Z',
};

/** A 7-day average of $10/day, and a spike at $160/h with $420 left. */
const spikeForecast: Forecast = {
  source: 'usage',
  dailySpendCents: 1000,
  windowDays: 7,
  runwayDays: 42,
  topSpenders: [
    { accessKey: 'ak_2abcDEF123', name: 'batch-worker', costCents: 5600, share: 0.8 },
    { accessKey: 'ak_2ghiJKL456', costCents: 1400, share: 0.2 },
  ],
};
const spikeRunway: Runway = {
  hours: 2.625,
  basis: 'recent',
  centsPerHour: 16000,
  recent: { known: true, centsPerHour: 16000, windowMinutes: 30, intervals: 2 },
  averageDailyCents: 1000,
  averageWindowDays: 7,
};

/** One readable case per kind, plus the variants that change the wording. */
/** A checkout page as ngrok returns one (a Stripe-hosted session). */
export const PAY_LINK: PayLink = {
  url: 'https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5#fidkdWxOYHwnPyd1blpxYHZxWjA0',
  amountCents: 2500,
  expiresAt: '2025-06-03T09:00:00.000Z',
};

export const cases: Record<string, Notification> = {
  'balance-alert': base,
  'balance-alert-pay-link': { ...base, payLink: PAY_LINK },
  'balance-alert-critical': { ...base, level: 'critical', previousLevel: 'low', balanceCents: 150 },
  'balance-alert-empty': {
    ...base,
    level: 'empty',
    previousLevel: 'critical',
    balanceCents: -125,
    forecast: { ...forecast, runwayDays: 0 },
  },
  'balance-alert-runway': {
    ...base,
    reason: 'runway',
    balanceCents: 2500,
    forecast: { ...forecast, runwayDays: 1.9, dailySpendCents: 1316 },
  },
  'balance-alert-no-forecast': {
    ...base,
    forecast: undefined,
    forecastNote: 'the usage overview returned no data for the last 7 days',
  },
  'balance-reminder': { ...base, kind: 'balance-reminder', since: '2025-06-01T15:00:00.000Z' },
  'balance-improved': {
    ...base,
    kind: 'balance-improved',
    level: 'low',
    previousLevel: 'critical',
    balanceCents: 750,
  },
  'balance-recovered': {
    ...base,
    kind: 'balance-recovered',
    level: 'ok',
    previousLevel: 'low',
    balanceCents: 2500,
    since: '2025-06-01T15:00:00.000Z',
    forecast: { ...forecast, runwayDays: 8.06 },
  },
  'monitor-failing-auth': {
    ...base,
    kind: 'monitor-failing',
    balanceCents: undefined,
    forecast: undefined,
    failure: { kind: 'auth', message: 'GET /credits returned 401 Unauthorized' },
    consecutiveFailures: 1,
    since: '2025-06-02T09:00:00.000Z',
  },
  'monitor-failing-missing-key': {
    ...base,
    kind: 'monitor-failing',
    level: 'ok',
    balanceCents: undefined,
    forecast: undefined,
    failure: {
      kind: 'missing-key',
      message:
        'The API key parameter /ngrok-balance-alert/api-key does not exist. Create it as a ' +
        'SecureString holding the ngrok.ai API key.',
    },
    consecutiveFailures: 1,
    since: '2025-06-02T09:00:00.000Z',
  },
  'monitor-failing': {
    ...base,
    kind: 'monitor-failing',
    balanceCents: undefined,
    forecast: undefined,
    failure: { kind: 'transient', message: 'GET /credits timed out after 10 s (3 attempts)' },
    consecutiveFailures: 4,
    since: '2025-06-02T06:00:00.000Z',
  },
  'monitor-reminder': {
    ...base,
    kind: 'monitor-reminder',
    balanceCents: undefined,
    forecast: undefined,
    failure: { kind: 'transient', message: 'GET /credits returned 503 Service Unavailable' },
    consecutiveFailures: 96,
    since: '2025-06-01T09:00:00.000Z',
  },
  'monitor-recovered': {
    ...base,
    kind: 'monitor-recovered',
    level: 'ok',
    balanceCents: 4210,
    since: '2025-06-02T06:00:00.000Z',
    forecast: { ...forecast, runwayDays: 13.6 },
  },
  'config-problem': {
    ...base,
    kind: 'config-problem',
    level: 'ok',
    balanceCents: 4210,
    forecast: undefined,
    configProblems: [
      {
        parameterName: THRESHOLD_PARAM,
        message:
          `The threshold parameter ${THRESHOLD_PARAM} holds "ten dollars", which is not a whole ` +
          'number of cents; the deployed default 1000 is in use. Fix: store a whole number of ' +
          'cents in it, digits only (the notification shows the command).',
      },
    ],
  },
  test: {
    ...base,
    kind: 'test',
    level: 'ok',
    balanceCents: 4210,
    previousLevel: undefined,
    forecast: { ...forecast, runwayDays: 13.6 },
  },
  'snooze-set': {
    ...base,
    kind: 'snooze-set',
    forecast: undefined,
    snooze: { until: '2025-06-04T09:00:00.000Z', note: 'top-up approved, lands Monday' },
  },
  'snooze-ended': {
    ...base,
    kind: 'snooze-ended',
    forecast: undefined,
    snooze: { until: '2025-06-02T09:00:00.000Z' },
  },
  'weekly-digest': {
    ...base,
    kind: 'weekly-digest',
    forecast: undefined,
    balanceCents: undefined,
    digest: {
      kind: 'weekly-digest',
      from: '2025-05-26T09:00:00.000Z',
      to: '2025-06-02T09:00:00.000Z',
      at: '2025-06-02T09:00:00.000Z',
      accounts: [
        {
          account: 'prod',
          level: 'low',
          balanceCents: 499,
          weekAgoCents: 2670,
          week: { spentCents: 2171, addedCents: 0, alerts: 1, topUps: 0 },
          forecast,
          snooze: { until: '2025-06-04T09:00:00.000Z', note: 'top-up approved' },
        },
        { account: 'staging', level: 'ok', balanceCents: 12_000 },
      ],
    },
  },
  'credit-expiry': {
    ...base,
    kind: 'credit-expiry',
    level: 'ok',
    balanceCents: 8000,
    forecast: undefined,
    expiry: {
      amountCents: 3000,
      category: 'purchase',
      createdAt: '2024-06-12T08:00:00.000Z',
      expiresAt: '2025-06-12T08:00:00.000Z',
      final: false,
    },
  },
  ...topUpCases(),
  'balance-alert-runway-hours': {
    ...base,
    level: 'low',
    reason: 'runway',
    balanceCents: 42000,
    forecast: spikeForecast,
    runway: spikeRunway,
  },
  'spike-started': {
    ...base,
    kind: 'spike-started',
    level: 'low',
    reason: 'runway',
    previousLevel: undefined,
    balanceCents: 42000,
    forecast: spikeForecast,
    runway: spikeRunway,
    since: '2025-06-02T09:00:00.000Z',
    spike: {
      levelCentsPerHour: 125,
      recentCentsPerHour: 16000,
      windowMinutes: 30,
      averageDailyCents: 1000,
      drivers: [
        {
          accessKey: 'ak_2abcDEF123',
          name: 'batch-worker',
          todayCentsPerHour: 15800,
          averageCentsPerHour: 40,
        },
        { accessKey: 'ak_2ghiJKL456', todayCentsPerHour: 200, averageCentsPerHour: 0 },
      ],
    },
  },
  'spike-reminder': {
    ...base,
    kind: 'spike-reminder',
    level: 'ok',
    previousLevel: undefined,
    balanceCents: 900000,
    forecast: spikeForecast,
    runway: { ...spikeRunway, hours: 56.25 },
    since: '2025-06-01T09:00:00.000Z',
    spike: {
      levelCentsPerHour: 125,
      recentCentsPerHour: 16000,
      windowMinutes: 30,
      averageDailyCents: 1000,
      drivers: [],
      driversNote: 'the usage overview could not be read: 503 Service Unavailable',
    },
  },
  'spike-ended': {
    ...base,
    kind: 'spike-ended',
    level: 'ok',
    previousLevel: undefined,
    balanceCents: 30000,
    forecast: spikeForecast,
    since: '2025-06-02T09:00:00.000Z',
    spike: {
      levelCentsPerHour: 125,
      recentCentsPerHour: 40,
      windowMinutes: 30,
      averageDailyCents: 1000,
      drivers: [],
    },
  },
};

/** One case per auto top-up kind, the way the monitor fills them in. */
function topUpCases(): Record<string, Notification> {
  const low = { ...base, level: 'low' as const, balanceCents: 420, forecast: undefined };
  const topUp = { amountCents: 2000, capCents: 6000 };
  return {
    'balance-alert-top-up': { ...low, topUpStatus: 'auto top-up: buying $20.00' },
    'top-up-started': {
      ...low,
      kind: 'top-up-started',
      topUp: { ...topUp, purchaseId: 'cp_1', balanceCents: 420 },
    },
    'top-up-succeeded': {
      ...low,
      kind: 'top-up-succeeded',
      topUp: { ...topUp, purchaseId: 'cp_1' },
    },
    'top-up-failed': {
      ...low,
      kind: 'top-up-failed',
      topUp: {
        ...topUp,
        purchaseId: 'cp_2',
        failureCode: 'card_declined',
        failureMessage: 'Your card was declined.',
        consecutiveFailures: 1,
      },
    },
    'top-up-action-required': {
      ...low,
      kind: 'top-up-action-required',
      topUp: { ...topUp, purchaseId: 'cp_3' },
    },
    'top-up-pending-long': {
      ...low,
      kind: 'top-up-pending-long',
      topUp: { ...topUp, purchaseId: 'cp_4' },
    },
    'top-up-capped': {
      ...low,
      kind: 'top-up-capped',
      topUp: { ...topUp, monthTotalCents: 6000, balanceCents: 420 },
    },
    'top-up-stopped': {
      ...low,
      kind: 'top-up-stopped',
      topUp: { ...topUp, stopReason: 'no_default_payment_method' },
    },
    'top-up-dry-run': {
      ...low,
      kind: 'top-up-dry-run',
      topUp: { ...topUp, monthTotalCents: 0, balanceCents: 420 },
    },
  };
}
