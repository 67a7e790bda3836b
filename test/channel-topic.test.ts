/**
 * Channel functions post only what was published to their own topic: a record from any other
 * topic (a subscription someone added elsewhere, a hand-made event) is logged and dropped.
 */
import type { GetParameterCommand } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../lambda/common/log.ts';
import type { Notification } from '../lambda/common/types.ts';
import { createSubscriber } from '../lambda/notify/channels/subscriber.ts';
import { renderNotification } from '../lambda/notify/render.ts';
import { cases, REGION } from './support/notification-cases.ts';
import { FakePagerDuty } from './support/stand-ins/index.ts';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:alerts';
const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';

describe('the channel subscriber', () => {
  it('posts records from its own topic and refuses any other, with a log line', async () => {
    // Prepare
    const pd = new FakePagerDuty(ROUTING_KEY);
    await pd.start();
    const lines: string[] = [];
    const reads: string[] = [];
    const handler = createSubscriber({
      ssm: {
        send: async (command: GetParameterCommand) => {
          reads.push(command.input.Name ?? '');
          return { Parameter: { Value: ROUTING_KEY, Type: 'SecureString' } };
        },
      } as never,
      environment: {
        channel: 'pagerduty',
        parameterName: '/nba/pd',
        eventsUrl: pd.eventsUrl,
        topicArn: TOPIC_ARN,
      },
      log: createLogger((line) => lines.push(line)),
      random: () => 0,
      sleep: async () => {},
    });
    const rendered = renderNotification(cases['balance-alert'] as Notification, { region: REGION });
    const record = (topicArn: string | undefined) => ({
      Sns: {
        ...(topicArn !== undefined && { TopicArn: topicArn }),
        MessageId: 'm-1',
        Message: JSON.stringify(rendered.structured),
        Subject: rendered.subject,
      },
    });

    try {
      // Act
      await handler({ Records: [record('arn:aws:sns:eu-west-1:123456789012:forged')] });
      await handler({ Records: [record(undefined)] });
      const refusedRequests = pd.events.length;
      await handler({ Records: [record(TOPIC_ARN)] });

      // Assess
      expect(refusedRequests).toBe(0);
      expect(pd.events).toHaveLength(1);
      expect(reads).toEqual(['/nba/pd']);
      const refusals = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => String(entry.message).includes('not from the alert topic'));
      expect(refusals.map((entry) => entry.topicArn)).toEqual([
        'arn:aws:sns:eu-west-1:123456789012:forged',
        '(none)',
      ]);
      expect(refusals[0]).toMatchObject({ level: 'WARN', channel: 'pagerduty' });
    } finally {
      await pd.close();
    }
  });
});
