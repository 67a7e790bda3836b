/**
 * Every capability of the monitor, in the order it runs (watch.ts says how). Effects run in
 * this order, then every decision in this order: the balance level comes before what shows
 * it, names before the snooze, and the week's tally counts what is left to send.
 * A new capability is a module and a line here.
 */
import { balanceWatch } from './balance.ts';
import { creditExpiryWatch } from './credit-expiry.ts';
import { keyNamesWatch } from './key-names.ts';
import { payLinkWatch } from './pay-link.ts';
import { readingsWatch } from './readings.ts';
import { snoozeWatch } from './snooze-hold.ts';
import { spikeWatch } from './spike.ts';
import { stateRepairWatch } from './state-repair.ts';
import { topUpWatch } from './top-up/watch.ts';
import type { AnyWatch } from './watch.ts';
import { weekWatch } from './week.ts';

export const WATCHES: readonly AnyWatch[] = [
  readingsWatch,
  balanceWatch,
  stateRepairWatch,
  topUpWatch,
  spikeWatch,
  creditExpiryWatch,
  payLinkWatch,
  keyNamesWatch,
  snoozeWatch,
  weekWatch,
];
