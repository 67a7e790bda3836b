/**
 * The "Buy $X now" checkout page in every channel, in that channel's form, and the rule
 * before any of them: a URL that is not a well-formed https URL is dropped, and the alert
 * reads exactly as one without a pay link (the credits page link).
 */
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../lambda/common/types.ts';
import { payLinkLabel } from '../../lambda/notify/content.ts';
import { classifyMessage } from '../../lambda/notify/incoming.ts';
import { httpsLink } from '../../lambda/notify/inert.ts';
import { renderNotification } from '../../lambda/notify/render.ts';
import { renderDiscord } from '../../lambda/notify/render-discord.ts';
import { renderPagerDuty } from '../../lambda/notify/render-pagerduty.ts';
import { renderSlackMessage } from '../../lambda/notify/render-slack.ts';
import { renderTeams } from '../../lambda/notify/render-teams.ts';
import { base, PAY_LINK, REGION } from '../support/notification-cases.ts';
import { validateNotificationV2 } from '../support/notification-schema.ts';

const withLink: Notification = { ...base, payLink: PAY_LINK };
const URL = PAY_LINK.url;

function rendered(n: Notification) {
  const r = renderNotification(n, { region: REGION, functionName: 'ngrok-balance-alert-fn' });
  const json = JSON.stringify(r.structured);
  const incoming = classifyMessage(json);
  return {
    r,
    slack: renderSlackMessage(json).message,
    teams: renderTeams(incoming),
    discord: renderDiscord(incoming),
    pagerDuty: renderPagerDuty(incoming),
  };
}

describe('the pay link in every channel', () => {
  const out = rendered(withLink);

  it('email: a line "Buy $25 now: <url>"', () => {
    expect(out.r.text).toContain(`\nBuy $25 now: ${URL}\n`);
    expect(out.r.text).toContain('https://app.ngrok.ai/credits');
  });

  it('JSON: payLink, valid against the contract; links keep the credits page', () => {
    expect(out.r.structured.payLink).toEqual(PAY_LINK);
    expect(out.r.structured.links[0]?.url).toBe('https://app.ngrok.ai/credits');
    expect(
      validateNotificationV2(out.r.structured),
      JSON.stringify(validateNotificationV2.errors),
    ).toBe(true);
  });

  it('Slack: a url button in an actions block, and the credits link as before', () => {
    const actions = out.slack.blocks.filter((b) => b.type === 'actions');
    expect(actions).toEqual([
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Buy $25 now', emoji: true },
            url: URL,
            action_id: 'ngrok-balance-alert-pay-link',
            style: 'primary',
          },
        ],
      },
    ]);
    expect(JSON.stringify(out.slack)).toContain('https://app.ngrok.ai/credits|Top up credits');
  });

  it('Teams: Action.OpenUrl first, then the credits page', () => {
    const card = out.teams.attachments[0]?.content;
    expect(card?.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Buy $25 now', url: URL },
      { type: 'Action.OpenUrl', title: 'Top up credits', url: 'https://app.ngrok.ai/credits' },
    ]);
  });

  it('Discord: a link in the first field; the title still links the credits page', () => {
    const embed = out.discord.embeds[0];
    expect(embed?.fields?.[0]).toEqual({
      name: 'Buy $25 now',
      value: `[Open the checkout page](${URL})`,
      inline: false,
    });
    expect(embed?.url).toBe('https://app.ngrok.ai/credits');
  });

  it('PagerDuty: the first of the links', () => {
    expect(out.pagerDuty[0]?.links).toEqual([
      { href: URL, text: 'Buy $25 now' },
      { href: 'https://app.ngrok.ai/credits', text: 'Top up credits' },
    ]);
  });

  it('Amazon Q: a Markdown link under the headline', () => {
    const lines = out.r.chat.content.description.split('\n');
    expect(lines[1]).toBe(`*Buy $25 now:* [Open the checkout page](${URL})`);
  });

  it('a URL as long as the contract allows still reaches Discord whole, in the description', () => {
    const long = `https://checkout.stripe.com/c/pay/cs_${'a'.repeat(2_000)}`;
    const { discord, r } = rendered({ ...base, payLink: { ...PAY_LINK, url: long } });
    const embed = discord.embeds[0];
    expect(embed?.description).toContain(`(${long})`);
    expect(r.chat.content.description).toContain(`(${long})`);
  });
});

describe('a pay link whose URL may not be placed', () => {
  const without = rendered(base);
  const bad = [
    'http://checkout.stripe.com/c/pay/cs_1',
    'javascript:alert(1)',
    'https://',
    'https://user:pass@checkout.stripe.com/c/pay/cs_1',
    'https://checkout.stripe.com/c/pay/cs_1)[x](https://evil.example',
    'https://checkout.stripe.com/c/pay/cs_1|Top up credits>',
    'https://checkout.stripe.com/c/pay/ cs_1',
    'https://checkout.stripe.com/c/pay/cs_1\u202e',
    `https://checkout.stripe.com/c/pay/${'a'.repeat(2_100)}`,
    ' https://checkout.stripe.com/c/pay/cs_1',
  ];

  it.each(bad)('is dropped everywhere, the alert as without one: %j', (url) => {
    expect(httpsLink(url)).toBeUndefined();
    const out = rendered({ ...base, payLink: { ...PAY_LINK, url } });
    expect(out.r.text).toBe(without.r.text);
    expect(out.r.chat).toEqual(without.r.chat);
    expect(out.r.structured).toEqual(without.r.structured);
    expect(out.slack).toEqual(without.slack);
    expect(out.teams).toEqual(without.teams);
    expect(out.discord).toEqual(without.discord);
    expect(out.pagerDuty).toEqual(without.pagerDuty);
  });

  it('is checked again by the channel renderers, which read the content as JSON', () => {
    const r = renderNotification(withLink, { region: REGION });
    const forged = {
      ...r.structured,
      content: {
        ...r.structured.content,
        payLink: { ...PAY_LINK, label: 'Buy', note: '', url: 'http://evil.example' },
      },
    };
    const incoming = classifyMessage(JSON.stringify(forged));
    const text = JSON.stringify([
      renderSlackMessage(JSON.stringify(forged)).message,
      renderTeams(incoming),
      renderDiscord(incoming),
      renderPagerDuty(incoming),
    ]);
    expect(text).not.toContain('evil.example');
  });
});

describe('the label', () => {
  it('drops whole-dollar cents and keeps others', () => {
    expect(payLinkLabel(2500)).toBe('Buy $25 now');
    expect(payLinkLabel(1250)).toBe('Buy $12.50 now');
    expect(payLinkLabel(120_000)).toBe('Buy $1,200 now');
  });
});
