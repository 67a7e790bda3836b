/**
 * The package entry: the NgrokBalanceAlert construct and the types of its props.
 */
export type { AccountProps, SettingsProps } from '../lambda/config/contract.ts';
export { ConfigError } from '../lambda/config/validate.ts';
export type { ChannelName } from '../lambda/notify/channels/channels.ts';
export type { NgrokBalanceAlertAlarms } from './monitoring.ts';
export type { ChannelFunctionName } from './ngrok-balance-alert.ts';
export { NgrokBalanceAlert, type NgrokBalanceAlertProps } from './ngrok-balance-alert.ts';
