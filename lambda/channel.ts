/**
 * Lambda entry point of the channel subscribers (PagerDuty, Teams, Discord, the signed
 * webhook): one bundle, the channel chosen by the CHANNEL environment variable the
 * construct sets. The code lives with the other channels in notify/channels/.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { createSubscriber, environmentFrom } from './notify/channels/subscriber.ts';

export const handler = createSubscriber({
  ssm: new SSMClient({}),
  environment: () => environmentFrom(process.env),
});
