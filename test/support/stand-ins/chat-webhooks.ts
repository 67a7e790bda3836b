/**
 * Microsoft Teams (a Workflows "When a Teams webhook request is received" trigger) and a
 * Discord channel webhook as local stand-ins: each checks the body the way its service
 * would refuse it (the Adaptive Card envelope; Discord's embed limits), answers as the
 * service does (202; 204), and keeps what it accepted. `failures` are answered first.
 */
import type { IncomingMessage } from 'node:http';
import { type Reply, StandInServer } from './server.ts';

abstract class ChatWebhook extends StandInServer {
  /** Answered first, one per request. */
  failures: Reply[] = [];
  /** Every accepted body. */
  readonly messages: Record<string, unknown>[] = [];
  /** Every request, accepted or not. */
  requests = 0;

  protected handle(_req: IncomingMessage, raw: string): Reply {
    this.requests += 1;
    const failure = this.failures.shift();
    if (failure) return failure;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return { status: 400, headers: {}, body: 'not JSON' };
    }
    const problem = this.problem(body);
    if (problem) return { status: 400, headers: {}, body: problem };
    this.messages.push(body);
    return this.accepted;
  }

  protected abstract readonly accepted: Reply;
  protected abstract problem(body: Record<string, unknown>): string | undefined;
}

export class FakeTeamsWorkflow extends ChatWebhook {
  protected readonly accepted: Reply = { status: 202, headers: {}, body: '' };

  protected problem(body: Record<string, unknown>): string | undefined {
    const attachments = body.attachments as Array<Record<string, unknown>> | undefined;
    const card = attachments?.[0]?.content as Record<string, unknown> | undefined;
    if (body.type !== 'message' || attachments?.length !== 1) return 'not a message envelope';
    if (attachments[0]?.contentType !== 'application/vnd.microsoft.card.adaptive') {
      return 'the attachment is not an Adaptive Card';
    }
    if (card?.type !== 'AdaptiveCard' || !Array.isArray(card.body) || card.body.length === 0) {
      return 'the card has no body';
    }
    return undefined;
  }

  /** The card's text, line by line, as Teams would show it. */
  static textOf(message: Record<string, unknown>): string {
    const attachments = message.attachments as Array<{ content: { body: unknown[] } }>;
    return (attachments[0]?.content.body ?? [])
      .map((e) => {
        const el = e as { text?: string; facts?: Array<{ title: string; value: string }> };
        return el.text ?? (el.facts ?? []).map((f) => `${f.title}: ${f.value}`).join('\n');
      })
      .join('\n');
  }
}

export class FakeDiscordWebhook extends ChatWebhook {
  protected readonly accepted: Reply = { status: 204, headers: {}, body: '' };

  protected problem(body: Record<string, unknown>): string | undefined {
    const embeds = body.embeds as Array<Record<string, unknown>> | undefined;
    if (!Array.isArray(embeds) || embeds.length === 0 || embeds.length > 10) {
      return '{"embeds": ["Must be between 1 and 10 in length."]}';
    }
    for (const e of embeds) {
      const fields = (e.fields as Array<{ name: string; value: string }> | undefined) ?? [];
      const title = String(e.title ?? '');
      const description = e.description === undefined ? undefined : String(e.description);
      const footer = String((e.footer as { text?: string } | undefined)?.text ?? '');
      if (title.length > 256 || description === '' || (description?.length ?? 0) > 4096) {
        return '{"embeds": ["0"]}';
      }
      if (fields.length > 25 || fields.some((f) => !f.name || !f.value || f.value.length > 1024)) {
        return '{"embeds": ["0"]}';
      }
      const total =
        title.length +
        (description?.length ?? 0) +
        footer.length +
        fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
      if (total > 6000) return '{"embeds": ["0"]}';
    }
    return undefined;
  }
}
