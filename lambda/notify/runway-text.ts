/**
 * The runway in words, for the renderers: "about 2.4 hours at $160/h over the last
 * 45 minutes; the 7-day average is $10/day". Hours when under two days, because a spike
 * is measured in hours; days above, as the forecast says them. Pure.
 */

import { formatCents } from '../common/money.ts';
import type { Runway } from '../observe/runway.ts';
import { formatRunwayDays, formatWindow } from './format.ts';

/** Below this many hours the runway is said in hours. */
export const HOURS_SHOWN_BELOW = 48;

/**
 * Describes the shorter runway of the recent and the long-term rate, naming the rate that
 * gave it and the other one for comparison.
 */
export function formatRunwayText(runway: Runway): string {
  const recent = runway.recent.known
    ? {
        rate: `${formatAmount(runway.recent.centsPerHour)}/h`,
        window: formatMinutes(runway.recent.windowMinutes),
      }
    : undefined;
  const average =
    runway.averageDailyCents === undefined
      ? undefined
      : {
          name: `${formatWindowDays(runway.averageWindowDays ?? 1)} average`,
          rate: `${formatAmount(runway.averageDailyCents)}/day`,
        };
  const recentClause = recent && `${recent.rate} over the last ${recent.window}`;
  const averageClause = average && `the ${average.name} is ${average.rate}`;

  if (runway.hours === 0) return 'out of credit';
  if (runway.hours === null) {
    return `no spend to run out on (${[recentClause, averageClause].filter(Boolean).join('; ')})`;
  }
  const left = formatRunwayHours(runway.hours);
  if (runway.basis === 'recent' || average === undefined) {
    return [`${left} at ${recentClause}`, averageClause].filter(Boolean).join('; ');
  }
  const since = recent && `the last ${recent.window} ran at ${recent.rate}`;
  return [`${left} at the ${average.name} of ${average.rate}`, since].filter(Boolean).join('; ');
}

/**
 * "about 2.4 hours" under ten hours, whole hours up to two days ("about 31 hours"), then
 * days as the forecast says them ("about 2.5 days"). Under an hour, minutes.
 */
export function formatRunwayHours(hours: number): string {
  if (hours < 1) {
    const minutes = Math.max(1, Math.round(hours * 60));
    return `about ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  }
  if (hours >= HOURS_SHOWN_BELOW) return formatRunwayDays(hours / 24);
  const shown = hours < 10 ? trimZero(hours.toFixed(1)) : String(Math.round(hours));
  return `about ${shown} ${shown === '1' ? 'hour' : 'hours'}`;
}

/** "45 minutes", "hour" (as in "the last hour"), "2 hours", "1.5 hours". */
export function formatMinutes(minutes: number): string {
  const rounded = Math.round(minutes);
  if (rounded < 60) return `${rounded} ${rounded === 1 ? 'minute' : 'minutes'}`;
  const hours = trimZero((rounded / 60).toFixed(1));
  return hours === '1' ? 'hour' : `${hours} hours`;
}

/** "7-day" for a whole number of days, else "7.5-day". */
function formatWindowDays(days: number): string {
  const window = formatWindow(days);
  return `${window === 'day' ? '1' : window.replace(' days', '')}-day`;
}

/** Dollars without a cents part when there is none ("$160", "$1.25"), at least a cent shown. */
export function formatAmount(cents: number): string {
  if (cents > 0 && cents < 0.5) return 'less than $0.01';
  return formatCents(cents).replace(/\.00$/, '');
}

function trimZero(fixed: string): string {
  return fixed.endsWith('.0') ? fixed.slice(0, -2) : fixed;
}
