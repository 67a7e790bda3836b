/**
 * The channel subscriber against local stand-ins of PagerDuty, Teams, Discord and a webhook
 * receiver: delivery (2xx), refusal (400), 429 with Retry-After, 5xx and a receiver that
 * never answers; the PagerDuty incident lifecycle; secrets kept out of logs and errors.
 */
import type { GetParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../lambda/common/log.ts';
import type { Notification } from '../../lambda/common/types.ts';
import type { ChannelName } from '../../lambda/notify/channels/channels.ts';
import { ChannelPostError } from '../../lambda/notify/channels/post.ts';
import type { SnsEvent } from '../../lambda/notify/channels/slack-webhook.ts';
import {
  ChannelParameterError,
  createSubscriber,
  environmentFrom,
} from '../../lambda/notify/channels/subscriber.ts';
import { renderNotification } from '../../lambda/notify/render.ts';
import { cases, REGION } from '../support/notification-cases.ts';
import {
  FakeDiscordWebhook,
  FakePagerDuty,
  FakeTeamsWorkflow,
  FakeWebhookReceiver,
  type Reply,
  type StandInServer,
  verifySignature,
} from '../support/stand-ins/index.ts';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const SECRET = 'whsec_subscriber-secret-0123';
const PARAM = '/nba/channel';
const SECRET_PARAM = '/nba/channel-secret';

const servers: StandInServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function start<T extends StandInServer>(server: T): Promise<T> {
  await server.start();
  servers.push(server);
  return server;
}

/** SNS as it invokes a Lambda subscriber: the version 2 JSON of one notification. */
function snsEvent(n: Notification): SnsEvent {
  const r = renderNotification(n, { region: REGION });
  return {
    Records: [
      {
        Sns: {
          MessageId: `m-${n.kind}`,
          Message: JSON.stringify(r.structured),
          Subject: r.subject,
        },
      },
    ],
  };
}

interface Setup {
  readonly channel: ChannelName;
  readonly value: string;
  readonly secret?: string;
  readonly eventsUrl?: string;
}

/** A subscriber with an in-memory SSM, fast retries and a captured log. */
function subscriber(setup: Setup, extra: { attemptTimeoutMs?: number; budgetMs?: number } = {}) {
  const lines: string[] = [];
  const sleeps: number[] = [];
  const values: Record<string, string> = {
    [PARAM]: setup.value,
    ...(setup.secret !== undefined && { [SECRET_PARAM]: setup.secret }),
  };
  const reads: string[] = [];
  const ssm = {
    send: async (command: GetParameterCommand) => {
      const name = command.input.Name ?? '';
      reads.push(name);
      const value = values[name];
      if (value === undefined) {
        throw Object.assign(new Error('Parameter not found'), { name: 'ParameterNotFound' });
      }
      return { Parameter: { Value: value, Type: 'SecureString' } };
    },
  };
  const handler = createSubscriber({
    ssm: ssm as never,
    environment: {
      channel: setup.channel,
      parameterName: PARAM,
      ...(setup.secret !== undefined && { secretParameterName: SECRET_PARAM }),
      eventsUrl: setup.eventsUrl ?? 'https://events.pagerduty.com/v2/enqueue',
    },
    log: createLogger((line) => lines.push(line)),
    random: () => 0,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { handler, lines, sleeps, reads };
}

const low = cases['balance-alert'] as Notification;

/** Each channel, its stand-in, and how many requests it has seen. */
const channels = {
  pagerduty: async () => {
    const pd = await start(new FakePagerDuty(ROUTING_KEY));
    return {
      server: pd,
      setup: { channel: 'pagerduty', value: ROUTING_KEY, eventsUrl: pd.eventsUrl } as Setup,
      received: () => pd.requests,
      fail: (reply: Reply) => pd.failures.push(reply),
      secret: ROUTING_KEY,
    };
  },
  teams: async () => {
    const teams = await start(new FakeTeamsWorkflow());
    const url = `${teams.url}/workflows/abc/triggers/manual/paths/invoke?sig=TEAMSSIG`;
    return {
      server: teams,
      setup: { channel: 'teams', value: url } as Setup,
      received: () => teams.requests,
      fail: (reply: Reply) => teams.failures.push(reply),
      secret: 'TEAMSSIG',
    };
  },
  discord: async () => {
    const discord = await start(new FakeDiscordWebhook());
    const url = `${discord.url}/api/webhooks/123/DISCORDTOKEN`;
    return {
      server: discord,
      setup: { channel: 'discord', value: url } as Setup,
      received: () => discord.requests,
      fail: (reply: Reply) => discord.failures.push(reply),
      secret: 'DISCORDTOKEN',
    };
  },
  webhook: async () => {
    const hook = await start(new FakeWebhookReceiver());
    const failures: Reply[] = [];
    hook.script = failures;
    return {
      server: hook,
      setup: { channel: 'webhook', value: `${hook.url}/hooks/HOOKTOKEN`, secret: SECRET } as Setup,
      received: () => hook.deliveries.length,
      fail: (reply: Reply) => {
        failures.push(reply);
        hook.script = [...failures, { status: 200, headers: {}, body: '' }];
      },
      secret: SECRET,
    };
  },
} as const;

describe.each(Object.keys(channels) as ChannelName[])('the %s subscriber', (name) => {
  it('delivers a notification in one post (2xx)', async () => {
    // Prepare
    const c = await channels[name]();
    const { handler, lines } = subscriber(c.setup);

    // Act
    await handler(snsEvent(low));

    // Assess
    expect(c.received()).toBe(1);
    expect(lines.join('\n')).toContain('"message":"Posted to');
    expect(lines.join('\n')).not.toContain(c.secret);
  });

  it('does not retry a 400, and says so without the secret', async () => {
    // Prepare
    const c = await channels[name]();
    c.fail({ status: 400, headers: {}, body: `refused ${c.secret}` });
    const { handler, lines } = subscriber(c.setup);

    // Act
    const error = await handler(snsEvent(low)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ChannelPostError);
    expect((error as ChannelPostError).retryable).toBe(false);
    expect((error as Error).message).toMatch(/answered HTTP 400/);
    expect((error as Error).message).not.toContain(c.secret);
    expect(lines.join('\n')).not.toContain(c.secret);
    expect(c.received()).toBe(1);
  });

  it('waits as a 429 asks (Retry-After) and retries a 5xx', async () => {
    // Prepare
    const c = await channels[name]();
    c.fail({ status: 429, headers: { 'retry-after': '2' }, body: '' });
    c.fail({ status: 503, headers: {}, body: '' });
    const { handler, sleeps } = subscriber(c.setup);

    // Act
    await handler(snsEvent(low));

    // Assess
    expect(c.received()).toBe(3);
    expect(sleeps[0]).toBe(2_000);
  });

  it('gives up within its budget when nobody answers, so Lambda can retry', async () => {
    // Prepare
    const c = await channels[name]();
    c.server.latencyMs = 1_500;
    const { handler } = subscriber(c.setup, { attemptTimeoutMs: 200, budgetMs: 1_000 });

    // Act
    const started = Date.now();
    const error = await handler(snsEvent(low)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ChannelPostError);
    expect((error as ChannelPostError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/did not answer within \d+ ms/);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('names a missing parameter, and never a value', async () => {
    const c = await channels[name]();
    const { handler } = subscriber({ ...c.setup, value: undefined as unknown as string });
    const error = await handler(snsEvent(low)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelParameterError);
    expect((error as Error).message).toContain(`parameter ${PARAM} does not exist`);
  });
});

describe('the PagerDuty subscriber', () => {
  it('opens, escalates and resolves exactly one incident: low → critical → recovered', async () => {
    // Prepare
    const pd = await start(new FakePagerDuty(ROUTING_KEY));
    const { handler } = subscriber({
      channel: 'pagerduty',
      value: ROUTING_KEY,
      eventsUrl: pd.eventsUrl,
    });

    // Act
    for (const name of [
      'balance-alert',
      'balance-reminder',
      'balance-alert-critical',
      'balance-recovered',
    ]) {
      await handler(snsEvent(cases[name] as Notification));
    }

    // Assess
    expect(pd.incidents).toEqual([
      {
        dedupKey: 'ngrok-balance-alert/prod/balance',
        status: 'resolved',
        severities: ['warning', 'error'],
        summaries: [expect.stringMatching(/low/), expect.stringMatching(/critical/)],
      },
    ]);
    expect(pd.events.map((e) => e.body.event_action)).toEqual(['trigger', 'trigger', 'resolve']);
  });

  it('keeps a monitor failure apart from a balance problem', async () => {
    const pd = await start(new FakePagerDuty(ROUTING_KEY));
    const { handler } = subscriber({
      channel: 'pagerduty',
      value: ROUTING_KEY,
      eventsUrl: pd.eventsUrl,
    });
    await handler(snsEvent(low));
    await handler(snsEvent(cases['monitor-failing'] as Notification));
    expect(pd.incidents.map((i) => [i.dedupKey, i.status])).toEqual([
      ['ngrok-balance-alert/prod/balance', 'triggered'],
      ['ngrok-balance-alert/prod/monitor', 'triggered'],
    ]);
  });

  it('leaves no incident open after a test', async () => {
    const pd = await start(new FakePagerDuty(ROUTING_KEY));
    const { handler } = subscriber({
      channel: 'pagerduty',
      value: ROUTING_KEY,
      eventsUrl: pd.eventsUrl,
    });
    await handler(snsEvent(cases.test as Notification));
    expect(pd.incidents).toHaveLength(1);
    expect(pd.incidents[0]?.status).toBe('resolved');
    expect(pd.incidents[0]?.summaries[0]).toMatch(/^\[TEST\]/);
  });

  it('sends nothing for a configuration problem, and reads no parameter for it', async () => {
    const pd = await start(new FakePagerDuty(ROUTING_KEY));
    const { handler, reads, lines } = subscriber({
      channel: 'pagerduty',
      value: ROUTING_KEY,
      eventsUrl: pd.eventsUrl,
    });
    await handler(snsEvent(cases['config-problem'] as Notification));
    expect(pd.events).toEqual([]);
    expect(reads).toEqual([]);
    expect(lines.join('\n')).toContain('Nothing to send to PagerDuty');
  });

  it('refuses a routing key that is not one word, without showing it', async () => {
    const { handler } = subscriber({ channel: 'pagerduty', value: 'not a key SECRETWORD' });
    const error = await handler(snsEvent(low)).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`parameter ${PARAM} does not hold a key`);
    expect((error as Error).message).not.toContain('SECRETWORD');
  });
});

describe('the webhook subscriber', () => {
  it('posts the version 2 JSON exactly as published, signed with the secret', async () => {
    // Prepare
    const hook = await start(new FakeWebhookReceiver());
    const { handler } = subscriber({ channel: 'webhook', value: `${hook.url}/h`, secret: SECRET });
    const event = snsEvent(low);

    // Act
    await handler(event);

    // Assess
    const [delivery] = hook.deliveries;
    expect(delivery?.body).toBe(event.Records[0]?.Sns.Message);
    const header = delivery?.headers['x-ngrok-balance-alert-signature'] as string;
    expect(await verifySignature(SECRET, header, delivery?.body ?? '', Date.now() / 1000)).toBe(
      true,
    );
  });

  it('does not forward a CloudWatch alarm, which is not in the version 2 contract', async () => {
    const hook = await start(new FakeWebhookReceiver());
    const { handler } = subscriber({ channel: 'webhook', value: `${hook.url}/h` });
    await handler({
      Records: [{ Sns: { Message: JSON.stringify({ AlarmName: 'a', NewStateValue: 'ALARM' }) } }],
    });
    expect(hook.deliveries).toEqual([]);
  });

  it('refuses a URL that is not https', async () => {
    const { handler } = subscriber({ channel: 'webhook', value: 'http://example.com/h' });
    const error = await handler(snsEvent(low)).catch((e: unknown) => e);
    expect((error as Error).message).toContain('does not hold an https URL');
    expect((error as Error).message).not.toContain('example.com');
  });
});

describe('environmentFrom', () => {
  it('reads the channel, the parameter names and the events URL, defaulting to the US one', () => {
    expect(
      environmentFrom({ CHANNEL: 'pagerduty', PARAMETER_NAME: '/p', SUBSCRIBED_TOPIC_ARN: 't' }),
    ).toEqual({
      channel: 'pagerduty',
      parameterName: '/p',
      eventsUrl: 'https://events.pagerduty.com/v2/enqueue',
      topicArn: 't',
    });
    expect(
      environmentFrom({
        CHANNEL: 'webhook',
        PARAMETER_NAME: '/u',
        SECRET_PARAMETER_NAME: '/s',
        PAGERDUTY_EVENTS_URL: 'https://events.eu.pagerduty.com/v2/enqueue',
        SUBSCRIBED_TOPIC_ARN: 't',
      }),
    ).toMatchObject({
      secretParameterName: '/s',
      eventsUrl: 'https://events.eu.pagerduty.com/v2/enqueue',
    });
  });

  it('says to redeploy when a variable is missing or names no channel', () => {
    expect(() => environmentFrom({ CHANNEL: 'teams' })).toThrow(
      /PARAMETER_NAME is not set: redeploy/,
    );
    expect(() => environmentFrom({ CHANNEL: 'fax', PARAMETER_NAME: '/p' })).toThrow(
      /names no channel/,
    );
  });
});
