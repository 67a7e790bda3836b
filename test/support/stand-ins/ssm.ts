/**
 * A fake SSM speaking the AWS JSON 1.1 protocol the SDK's SSMClient uses (POST /,
 * `content-type: application/x-amz-json-1.1`, `x-amz-target: AmazonSSM.<Op>`). Enforces the
 * limits the monitor must respect (10 names per GetParameters, 4 KB standard parameters).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FAKE_AWS, type Reply, type SignedScope, StandInServer, signedScope } from './server.ts';

export interface StoredParameter {
  readonly value: string;
  readonly type: 'String' | 'SecureString' | 'StringList';
  readonly version: number;
}

export interface SsmRequest {
  /** The operation from `x-amz-target`, e.g. `GetParameters`. */
  readonly action: string;
  /** Every parameter name the request is about. */
  readonly names: readonly string[];
  /** The decoded JSON body. */
  readonly input: Record<string, unknown>;
  readonly scope: SignedScope;
  readonly at: number;
}

/** Standard-tier parameters hold at most 4 KB. */
const SSM_MAX_VALUE_BYTES = 4096;
/** GetParameters accepts at most 10 names. */
const SSM_MAX_NAMES = 10;

export class FakeSsm extends StandInServer {
  readonly parameters = new Map<string, StoredParameter>();
  readonly requests: SsmRequest[] = [];
  private readonly started = performance.now();

  /** Stores a parameter as `aws ssm put-parameter --overwrite` would. */
  put(name: string, value: string, type: StoredParameter['type'] = 'String'): this {
    const version = (this.parameters.get(name)?.version ?? 0) + 1;
    this.parameters.set(name, { value, type, version });
    return this;
  }

  value(name: string): string | undefined {
    return this.parameters.get(name)?.value;
  }

  protected handle(req: IncomingMessage, body: string): Reply {
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
    let input: Record<string, unknown> = {};
    try {
      input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      return ssmError(400, 'SerializationException', 'the request body is not JSON');
    }
    const names = Array.isArray(input.Names)
      ? input.Names.map(String)
      : typeof input.Name === 'string'
        ? [input.Name]
        : [];
    this.requests.push({
      action: action || target,
      names,
      input,
      scope: signedScope(req),
      at: performance.now() - this.started,
    });
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      return ssmError(
        400,
        'SerializationException',
        'expected a POST of application/x-amz-json-1.1',
      );
    }
    switch (action) {
      case 'GetParameters':
        return this.getParameters(names, input.WithDecryption === true);
      case 'GetParameter':
        return this.getParameter(names[0] ?? '', input.WithDecryption === true);
      case 'PutParameter':
        return this.putParameter(input);
      default:
        return ssmError(400, 'UnknownOperationException', `unsupported operation "${target}"`);
    }
  }

  private getParameters(names: readonly string[], withDecryption: boolean): Reply {
    if (names.length === 0 || names.length > SSM_MAX_NAMES) {
      return ssmError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to ${SSM_MAX_NAMES}`,
      );
    }
    const parameters = [];
    const invalid = [];
    for (const name of new Set(names)) {
      const stored = this.parameters.get(name);
      if (!stored) {
        invalid.push(name);
        continue;
      }
      const value =
        stored.type === 'SecureString' && !withDecryption
          ? Buffer.from(`encrypted:${name}`).toString('base64')
          : stored.value;
      parameters.push({
        Name: name,
        Type: stored.type,
        Value: value,
        Version: stored.version,
        ARN: `arn:aws:ssm:${FAKE_AWS.region}:${FAKE_AWS.accountId}:parameter/${name.replace(/^\/+/, '')}`,
        DataType: 'text',
        LastModifiedDate: Date.now() / 1000,
      });
    }
    return jsonRpc(200, { Parameters: parameters, InvalidParameters: invalid });
  }

  /** The channel subscribers read their one parameter (or two) with GetParameter. */
  private getParameter(name: string, withDecryption: boolean): Reply {
    if (!this.parameters.has(name)) {
      return ssmError(400, 'ParameterNotFound', '');
    }
    const reply = JSON.parse(this.getParameters([name], withDecryption).body) as {
      Parameters: unknown[];
    };
    return jsonRpc(200, { Parameter: reply.Parameters[0] });
  }

  private putParameter(input: Record<string, unknown>): Reply {
    const { Name: name, Value: value, Type: type, Overwrite: overwrite } = input;
    if (typeof name !== 'string' || typeof value !== 'string') {
      return ssmError(400, 'ValidationException', 'Name and Value are required');
    }
    if (Buffer.byteLength(value) > SSM_MAX_VALUE_BYTES) {
      return ssmError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${SSM_MAX_VALUE_BYTES}`,
      );
    }
    const existing = this.parameters.get(name);
    if (existing && overwrite !== true) {
      return ssmError(400, 'ParameterAlreadyExists', 'The parameter already exists.');
    }
    const nextType = (type as StoredParameter['type'] | undefined) ?? existing?.type ?? 'String';
    this.put(name, value, nextType);
    return jsonRpc(200, { Version: this.parameters.get(name)?.version, Tier: 'Standard' });
  }
}

function jsonRpc(status: number, body: unknown): Reply {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(body),
  };
}

function ssmError(status: number, type: string, message: string): Reply {
  return jsonRpc(status, { __type: type, message });
}
