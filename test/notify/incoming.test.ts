import { describe, expect, it } from 'vitest';
import { classifyMessage, incomingFields } from '../../lambda/notify/incoming.ts';
import { renderNotification } from '../../lambda/notify/render.ts';
import { base } from '../support/notification-cases.ts';

const v2 = JSON.stringify(renderNotification({ ...base, account: 'a'.repeat(250) }).structured);
const alarmJson = JSON.stringify({ AlarmName: 'x', NewStateValue: 'ALARM'.repeat(10) });

describe('classifyMessage', () => {
  it('recognises the version 2 JSON and keeps it exactly as published', () => {
    const message = `  ${v2}\n`;
    const incoming = classifyMessage(message, 'subject');
    expect(incoming.kind).toBe('notification');
    expect(incoming.kind === 'notification' && incoming.raw).toBe(message);
  });

  it('recognises a CloudWatch alarm, with its subject on one line', () => {
    expect(classifyMessage(alarmJson, 'ALARM:\n "x"  in  us-east-1')).toEqual({
      kind: 'alarm',
      alarm: expect.objectContaining({ AlarmName: 'x' }),
      subject: 'ALARM: "x" in us-east-1',
    });
  });

  it('keeps anything else as text: not JSON, a JSON array, JSON of another shape', () => {
    for (const text of ['hello', '[1, 2]', '{"version": 1}', '{not json', '']) {
      expect(classifyMessage(text, null)).toEqual({ kind: 'raw', text });
    }
    expect(classifyMessage('hello', 'Hand\nmade')).toEqual({
      kind: 'raw',
      text: 'hello',
      subject: 'Hand made',
    });
    expect(classifyMessage('hello', '')).toEqual({ kind: 'raw', text: 'hello' });
  });
});

describe('incomingFields', () => {
  it('logs the kind, a cut account and the test flag of a notification', () => {
    expect(incomingFields(classifyMessage(v2))).toEqual({
      notificationKind: 'balance-alert',
      account: 'a'.repeat(200),
      test: false,
    });
  });

  it("logs an alarm's state, cut, and nothing of a message published by hand", () => {
    expect(incomingFields(classifyMessage(alarmJson))).toEqual({
      alarmState: 'ALARM'.repeat(8),
    });
    expect(incomingFields(classifyMessage('secret text'))).toEqual({});
  });
});
