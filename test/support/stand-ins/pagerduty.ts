/**
 * The PagerDuty Events API v2 as a local stand-in: checks each event the way the real
 * endpoint documents (routing key, action, dedup_key, the payload a trigger needs) and
 * keeps the incidents it opened, so a test can count them and follow their lifecycle.
 * `failures` are answered first, one per request, before any event is accepted.
 */
import type { IncomingMessage } from 'node:http';
import { type Reply, StandInServer } from './server.ts';

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

export interface PagerDutyIncident {
  readonly dedupKey: string;
  status: 'triggered' | 'resolved';
  /** The severity of every trigger that reached it, in order. */
  readonly severities: string[];
  readonly summaries: string[];
}

export interface ReceivedEvent {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

export class FakePagerDuty extends StandInServer {
  /** Answered first, one per request. */
  failures: Reply[] = [];
  readonly events: ReceivedEvent[] = [];
  /** Every incident ever opened: a trigger on a key with no open incident opens a new one. */
  readonly incidents: PagerDutyIncident[] = [];
  /** Every request, answered from `failures` or not. */
  requests = 0;

  constructor(readonly routingKey: string) {
    super();
  }

  /** The URL the poster is pointed at (PAGERDUTY_EVENTS_URL). */
  get eventsUrl(): string {
    return `${this.url}/v2/enqueue`;
  }

  protected handle(req: IncomingMessage, raw: string): Reply {
    this.requests += 1;
    const failure = this.failures.shift();
    if (failure) return failure;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return invalid('Event object is invalid', 'body is not JSON');
    }
    this.events.push({ path: req.url ?? '', body });
    if (req.url !== '/v2/enqueue' || req.method !== 'POST') {
      return { status: 404, headers: {}, body: '' };
    }
    if (body.routing_key !== this.routingKey) return invalid('Invalid routing key', 'routing_key');
    const action = body.event_action;
    const key = body.dedup_key;
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
      return invalid('Event object is invalid', "'dedup_key' is missing or longer than 255");
    }
    const open = this.incidents.find((i) => i.dedupKey === key && i.status === 'triggered');
    if (action === 'trigger') {
      const p = body.payload as Record<string, unknown> | undefined;
      if (
        typeof p?.summary !== 'string' ||
        p.summary.length > 1024 ||
        typeof p.source !== 'string' ||
        !SEVERITIES.includes(String(p.severity))
      ) {
        return invalid('Event object is invalid', "'payload' needs summary, source and severity");
      }
      const incident = open ?? {
        dedupKey: key,
        status: 'triggered' as const,
        severities: [],
        summaries: [],
      };
      if (!open) this.incidents.push(incident);
      incident.severities.push(String(p.severity));
      incident.summaries.push(p.summary);
    } else if (action === 'resolve') {
      if (open) open.status = 'resolved';
    } else {
      return invalid('Event object is invalid', "'event_action' is invalid");
    }
    return {
      status: 202,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: key }),
    };
  }
}

function invalid(message: string, error: string): Reply {
  return {
    status: 400,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'invalid event', message, errors: [error] }),
  };
}
