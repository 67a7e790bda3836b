/**
 * Local stand-ins for everything the bundled function talks to, so the real artifact can be
 * run on a laptop or in CI with no AWS account and no network beyond loopback:
 *
 * - a fake ngrok.ai API (GET /credits/balance, GET /usage/overview) with scripted answers
 *   per API key;
 * - a fake SSM speaking the AWS JSON 1.1 protocol the SDK's SSMClient uses
 *   (POST /, `content-type: application/x-amz-json-1.1`, `x-amz-target: AmazonSSM.<Op>`);
 * - a fake SNS speaking the AWS Query protocol the SDK's SNSClient uses
 *   (POST /, form-encoded `Action=Publish&Version=2010-03-31&...`, XML response).
 *
 * Each is an HTTP server on 127.0.0.1 with an ephemeral port, records every request it
 * receives, and can delay every response by `latencyMs` (for the benchmark). The fakes
 * enforce the service limits the monitor must respect (10 names per GetParameters, 4 KB
 * standard parameters, SNS subject and message rules) so a regression fails here rather
 * than in production.
 *
 * The module also holds the helpers that synthesize the app and run the bundled handler in
 * a fresh Node process, shared by the artifact smoke test and the benchmark.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in test/support). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Fake identifiers used wherever the function needs an AWS value. */
export const FAKE_AWS = {
  region: 'us-east-1',
  accountId: '123456789012',
  partition: 'aws',
  accessKeyId: 'AKIDSTANDIN00000000',
  secretAccessKey: 'stand-in-secret-access-key',
  topicArn: 'arn:aws:sns:us-east-1:123456789012:NgrokBalanceAlert-AlertTopic-STANDIN',
} as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------
// Shared HTTP plumbing

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The SigV4 credential scope of a request: which region and service it was signed for. */
export interface SignedScope {
  readonly accessKeyId?: string;
  readonly region?: string;
  readonly service?: string;
}

function signedScope(req: IncomingMessage): SignedScope {
  const auth = req.headers.authorization ?? '';
  const match = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
  if (!match) return {};
  return { accessKeyId: match[1], region: match[2], service: match[3] };
}

abstract class StandInServer {
  /** Delay applied to every response, in milliseconds. May be changed between runs. */
  latencyMs: number;
  protected server: Server | undefined;
  private baseUrl = '';

  constructor(options: { latencyMs?: number } = {}) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** `http://127.0.0.1:<port>`; valid after `start()`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('the stand-in has not been started');
    return this.baseUrl;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.receive(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`stand-in failure: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const reply = this.handle(req, body);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-length': String(Buffer.byteLength(reply.body)),
    });
    res.end(reply.body);
  }

  protected abstract handle(req: IncomingMessage, body: string): Reply;
}

// ---------------------------------------------------------------------------------------
// Fake ngrok.ai API

/** What the fake ngrok API answers for one API key. */
export interface NgrokAccountScript {
  /**
   * The balance in cents per GET /credits/balance, in order; the last one repeats. A
   * single number always answers the same.
   */
  readonly balanceCents?: number | readonly number[];
  /** Answer every call with this HTTP status instead (e.g. 401, 503). */
  readonly status?: number;
  /** Buckets for GET /usage/overview; none by default (nothing spent). */
  readonly usageBuckets?: readonly {
    bucketStart: string;
    groupKey: string;
    cost: string;
    requests: number;
    errors: number;
  }[];
}

export interface NgrokRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/credits/balance`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The bearer token, or undefined when there was none. */
  readonly apiKey: string | undefined;
  /** Milliseconds since the stand-in started, when the request arrived. */
  readonly at: number;
}

export class FakeNgrokApi extends StandInServer {
  readonly requests: NgrokRequest[] = [];
  private readonly accounts = new Map<string, NgrokAccountScript>();
  private readonly balanceCalls = new Map<string, number>();
  private readonly started = performance.now();

  /** Scripts the answers for one API key; replaces any earlier script and its call count. */
  setAccount(apiKey: string, script: NgrokAccountScript): this {
    this.accounts.set(apiKey, script);
    this.balanceCalls.set(apiKey, 0);
    return this;
  }

  protected handle(req: IncomingMessage, _body: string): Reply {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      apiKey: bearer,
      at: performance.now() - this.started,
    });
    const account = bearer === undefined ? undefined : this.accounts.get(bearer);
    if (req.method !== 'GET') return ngrokError(405, 'ERR_NGROK_405', 'method not allowed');
    if (!account) return ngrokError(401, 'ERR_NGROK_401', 'the API key is not valid');
    if (account.status !== undefined && account.status !== 200) {
      return ngrokError(account.status, `ERR_NGROK_${account.status}`, 'scripted failure');
    }
    if (url.pathname === '/credits/balance') {
      const calls = this.balanceCalls.get(bearer as string) ?? 0;
      this.balanceCalls.set(bearer as string, calls + 1);
      const script = account.balanceCents ?? 0;
      const list = typeof script === 'number' ? [script] : script;
      const balanceCents = list[Math.min(calls, list.length - 1)] ?? 0;
      return json(200, { balanceCents });
    }
    if (url.pathname === '/usage/overview') {
      const buckets = account.usageBuckets ?? [];
      const requests = buckets.reduce((sum, b) => sum + b.requests, 0);
      const errors = buckets.reduce((sum, b) => sum + b.errors, 0);
      const cost = buckets.reduce((sum, b) => sum + Number(b.cost), 0);
      return json(200, {
        uri: `${url.pathname}${url.search}`,
        buckets,
        totals: { cost: cost.toFixed(5), requests, errors },
      });
    }
    return ngrokError(404, 'ERR_NGROK_404', `no route for ${url.pathname}`);
  }
}

function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function ngrokError(status: number, errorCode: string, msg: string): Reply {
  return json(status, { errorCode, msg, statusCode: status });
}

// ---------------------------------------------------------------------------------------
// Fake SSM Parameter Store (AWS JSON 1.1)

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

// ---------------------------------------------------------------------------------------
// Fake SNS (AWS Query protocol)

export interface SnsRequest {
  /** The `Action` form field, e.g. `Publish`. */
  readonly action: string;
  readonly topicArn: string | undefined;
  readonly subject: string | undefined;
  readonly message: string | undefined;
  readonly messageStructure: string | undefined;
  /** String message attributes by name. */
  readonly messageAttributes: Readonly<Record<string, string>>;
  /** Every form field as sent. */
  readonly form: Readonly<Record<string, string>>;
  readonly scope: SignedScope;
  readonly at: number;
  /** Whether the fake accepted it (a rejected publish delivers nothing). */
  readonly accepted: boolean;
}

/** SNS rejects a Publish whose message and attributes exceed 256 KiB. */
const SNS_MAX_BYTES = 262_144;

export class FakeSns extends StandInServer {
  readonly requests: SnsRequest[] = [];
  private readonly started = performance.now();
  /** When set, a Publish to any other topic is answered NotFound, as SNS would. */
  readonly topicArn: string | undefined;

  constructor(options: { latencyMs?: number; topicArn?: string } = {}) {
    super(options);
    this.topicArn = options.topicArn;
  }

  /** Publishes SNS accepted, in order. */
  get publishes(): SnsRequest[] {
    return this.requests.filter((r) => r.action === 'Publish' && r.accepted);
  }

  protected handle(req: IncomingMessage, body: string): Reply {
    const form = Object.fromEntries(new URLSearchParams(body));
    const attributes: Record<string, string> = {};
    for (const [key, name] of Object.entries(form)) {
      const match = /^MessageAttributes\.entry\.(\d+)\.Name$/.exec(key);
      if (!match) continue;
      const value = form[`MessageAttributes.entry.${match[1]}.Value.StringValue`];
      if (value !== undefined) attributes[name] = value;
    }
    const action = form.Action ?? '';
    const reply =
      req.method !== 'POST' ||
      !String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
        ? snsError(400, 'InvalidAction', 'expected a form-encoded POST')
        : action === 'Publish'
          ? this.publish(form, attributes)
          : snsError(400, 'InvalidAction', `The action ${action} is not valid for this endpoint.`);
    this.requests.push({
      action,
      topicArn: form.TopicArn,
      subject: form.Subject,
      message: form.Message,
      messageStructure: form.MessageStructure,
      messageAttributes: attributes,
      form,
      scope: signedScope(req),
      at: performance.now() - this.started,
      accepted: reply.status === 200,
    });
    return reply;
  }

  private publish(form: Record<string, string>, attributes: Record<string, string>): Reply {
    const { TopicArn: topicArn, Message: message, Subject: subject } = form;
    if (!topicArn) return snsError(400, 'InvalidParameter', 'Invalid parameter: TopicArn');
    if (this.topicArn !== undefined && topicArn !== this.topicArn) {
      return snsError(404, 'NotFound', 'Topic does not exist', 'Sender');
    }
    if (message === undefined || message === '') {
      return snsError(400, 'InvalidParameter', 'Invalid parameter: Empty message');
    }
    if (subject !== undefined && !/^[\x20-\x7e]{1,99}$/.test(subject)) {
      return snsError(
        400,
        'InvalidParameter',
        'Invalid parameter: Subject must be ASCII text that begins with a letter, number, or punctuation mark; must not include line breaks or control characters; and must be less than 100 characters long.',
      );
    }
    const size =
      Buffer.byteLength(message) +
      Object.entries(attributes).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value) + 6,
        0,
      );
    if (size > SNS_MAX_BYTES) {
      return snsError(400, 'InvalidParameter', 'Invalid parameter: Message too long');
    }
    if (form.MessageStructure === 'json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        return snsError(
          400,
          'InvalidParameter',
          'Invalid parameter: Message Structure - JSON message body failed to parse',
        );
      }
      const entries = typeof parsed === 'object' && parsed !== null ? Object.values(parsed) : [];
      if (typeof (parsed as { default?: unknown } | null)?.default !== 'string') {
        return snsError(
          400,
          'InvalidParameter',
          'Invalid parameter: Message Structure - No default entry in JSON message body',
        );
      }
      if (entries.some((v) => typeof v !== 'string')) {
        return snsError(
          400,
          'InvalidParameter',
          'Invalid parameter: Message Structure - every protocol entry must be a string',
        );
      }
    }
    return {
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body:
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
        `<PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
        '</PublishResponse>',
    };
  }
}

function snsError(status: number, code: string, message: string, type = 'Sender'): Reply {
  const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body:
      '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
      `<Error><Type>${type}</Type><Code>${code}</Code><Message>${escaped}</Message></Error>` +
      `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  };
}

// ---------------------------------------------------------------------------------------
// All three together

/** One AWS call the function made, in the terms an IAM policy speaks. */
export interface AwsCall {
  /** e.g. `ssm:GetParameters`, `sns:Publish`. */
  readonly action: string;
  /** The parameter names (SSM) or the topic ARN (SNS) it touched. */
  readonly resources: readonly string[];
}

export interface StandIns {
  readonly ngrok: FakeNgrokApi;
  readonly ssm: FakeSsm;
  readonly sns: FakeSns;
  /** Sets the injected latency of all three at once. */
  setLatency(ms: number): void;
  /** Environment for the function: endpoints, region, fake credentials, topic. */
  env(): Record<string, string>;
  /** Every SSM and SNS call recorded so far. */
  awsCalls(): AwsCall[];
  close(): Promise<void>;
}

export async function startStandIns(
  options: { latencyMs?: number; topicArn?: string } = {},
): Promise<StandIns> {
  const topicArn = options.topicArn ?? FAKE_AWS.topicArn;
  const ngrok = await new FakeNgrokApi(options).start();
  const ssm = await new FakeSsm(options).start();
  const sns = await new FakeSns({ ...options, topicArn }).start();
  return {
    ngrok,
    ssm,
    sns,
    setLatency(ms) {
      ngrok.latencyMs = ms;
      ssm.latencyMs = ms;
      sns.latencyMs = ms;
    },
    env: () => ({
      AWS_REGION: FAKE_AWS.region,
      AWS_DEFAULT_REGION: FAKE_AWS.region,
      AWS_ACCESS_KEY_ID: FAKE_AWS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_AWS.secretAccessKey,
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_ENDPOINT_URL_SNS: sns.url,
      AWS_EC2_METADATA_DISABLED: 'true',
      NGROK_API_URL: ngrok.url,
      TOPIC_ARN: topicArn,
    }),
    awsCalls: () => [
      ...ssm.requests.map((r) => ({ action: `ssm:${r.action}`, resources: r.names })),
      ...sns.requests.map((r) => ({
        action: `sns:${r.action}`,
        resources: r.topicArn === undefined ? [] : [r.topicArn],
      })),
    ],
    close: async () => {
      await Promise.all([ngrok.close(), ssm.close(), sns.close()]);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Synthesizing the app and finding the monitor function in the cloud assembly

export interface SynthResult {
  readonly outdir: string;
  readonly template: CfnTemplate;
  /** Logical id of the monitor function. */
  readonly functionId: string;
  /** Absolute path of its bundled index.mjs. */
  readonly bundle: string;
  /** The function's Timeout in seconds. */
  readonly timeoutSeconds: number;
  /** Logical id of its execution role. */
  readonly roleId: string;
  /** Logical id the TOPIC_ARN environment variable refers to. */
  readonly topicRefId: string | undefined;
  readonly synthMs: number;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/**
 * Runs `npx cdk synth <context> --output <outdir> --quiet` in the repository and finds the
 * monitor function: the AWS::Lambda::Function with Handler `index.handler` and TOPIC_ARN in
 * its environment. Its code is the asset directory named by the `aws:asset:path` metadata.
 */
export async function synthesize(
  outdir: string,
  context: Record<string, string>,
  timeoutMs = 180_000,
): Promise<SynthResult> {
  const args = ['cdk', 'synth'];
  for (const [key, value] of Object.entries(context)) args.push('-c', `${key}=${value}`);
  args.push('--output', outdir, '--quiet');
  const started = performance.now();
  const run = await runProcess('npx', args, { cwd: REPO_ROOT, env: process.env, timeoutMs });
  const synthMs = performance.now() - started;
  if (run.exitCode !== 0) {
    throw new Error(
      `cdk synth failed (exit ${run.exitCode}):\n${run.stderr.slice(-4000)}\n${run.stdout.slice(-2000)}`,
    );
  }
  const template = JSON.parse(
    readFileSync(path.join(outdir, 'NgrokBalanceAlert.template.json'), 'utf8'),
  ) as CfnTemplate;
  const found = findMonitorFunction(template);
  const assetPath = found.resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') {
    throw new Error(`the function ${found.id} has no aws:asset:path metadata`);
  }
  const role = found.resource.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const roleId = role?.['Fn::GetAtt']?.[0];
  if (!roleId) throw new Error(`the function ${found.id} does not name a role in this stack`);
  const env = (found.resource.Properties?.Environment as { Variables?: Record<string, unknown> })
    ?.Variables;
  const topicRef = (env?.TOPIC_ARN as { Ref?: string } | undefined)?.Ref;
  return {
    outdir,
    template,
    functionId: found.id,
    bundle: path.resolve(outdir, assetPath, 'index.mjs'),
    timeoutSeconds: Number(found.resource.Properties?.Timeout ?? 3),
    roleId,
    topicRefId: topicRef,
    synthMs,
  };
}

export function findMonitorFunction(template: CfnTemplate): { id: string; resource: CfnResource } {
  const matches = Object.entries(template.Resources).filter(([, r]) => {
    if (r.Type !== 'AWS::Lambda::Function') return false;
    const props = r.Properties ?? {};
    const vars = (props.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    return props.Handler === 'index.handler' && vars !== undefined && 'TOPIC_ARN' in vars;
  });
  if (matches.length !== 1) {
    throw new Error(`expected one monitor function in the template, found ${matches.length}`);
  }
  const [id, resource] = matches[0] as [string, CfnResource];
  return { id, resource };
}

// ---------------------------------------------------------------------------------------
// IAM: the statements that apply to a role, resolved to plain strings

export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: unknown;
  readonly Sid?: string;
}

export interface RolePolicy {
  readonly logicalId: string;
  readonly type: string;
  readonly statements: readonly PolicyStatement[];
  /** Length of the resolved document with whitespace removed, as IAM counts it. */
  readonly size: number;
}

/**
 * Every AWS::IAM::Policy and AWS::IAM::ManagedPolicy in the template attached to the role
 * (plus the role's own inline policies), with intrinsics resolved: pseudo-parameters to the
 * fake account, the topic to `topicArn`, anything else to `unresolved:<id>`.
 */
export function rolePolicies(
  template: CfnTemplate,
  roleId: string,
  refs: Record<string, string>,
): RolePolicy[] {
  const resolve = (value: unknown): unknown => resolveIntrinsics(value, refs);
  const policies: RolePolicy[] = [];
  const attached = (roles: unknown) =>
    Array.isArray(roles) && roles.some((r) => (r as { Ref?: string } | null)?.Ref === roleId);
  for (const [id, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    let documents: unknown[] = [];
    if (
      (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') &&
      attached(props.Roles)
    ) {
      documents = [props.PolicyDocument];
    } else if (resource.Type === 'AWS::IAM::Role' && id === roleId) {
      documents = ((props.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
        (p) => p.PolicyDocument,
      );
    }
    for (const document of documents) {
      const resolved = resolve(document) as { Statement?: PolicyStatement | PolicyStatement[] };
      const statements = resolved.Statement === undefined ? [] : [resolved.Statement].flat();
      policies.push({
        logicalId: id,
        type: resource.Type,
        statements,
        size: JSON.stringify(resolved).replace(/\s+/g, '').length,
      });
    }
  }
  return policies;
}

export function resolveIntrinsics(value: unknown, refs: Record<string, string>): unknown {
  const pseudo: Record<string, string> = {
    'AWS::Partition': FAKE_AWS.partition,
    'AWS::Region': FAKE_AWS.region,
    'AWS::AccountId': FAKE_AWS.accountId,
    'AWS::URLSuffix': 'amazonaws.com',
    ...refs,
  };
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return pseudo[o.Ref] ?? `unresolved:${o.Ref}`;
    if (Array.isArray(o['Fn::Join'])) {
      const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => String(walk(p))).join(separator);
    }
    if (Array.isArray(o['Fn::GetAtt'])) {
      return `unresolved:${(o['Fn::GetAtt'] as string[]).join('.')}`;
    }
    if (typeof o['Fn::Sub'] === 'string') {
      return (o['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        return pseudo[name] ?? `unresolved:${name}`;
      });
    }
    return Object.fromEntries(Object.entries(o).map(([k, inner]) => [k, walk(inner)]));
  };
  return walk(value);
}

/** The ARN IAM evaluates for an SSM parameter name (one slash after `parameter`). */
export function ssmParameterArn(name: string): string {
  return `arn:${FAKE_AWS.partition}:ssm:${FAKE_AWS.region}:${FAKE_AWS.accountId}:parameter/${name.replace(/^\/+/, '')}`;
}

/** IAM wildcard match: `*` any run of characters, `?` one character; actions ignore case. */
export function iamMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  const source = `^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`;
  return new RegExp(source, ignoreCase ? 'i' : '').test(value);
}

/**
 * Whether the statements allow `action` on `resourceArn`: some unconditional Allow matches
 * and no Deny does. Conditional statements are not evaluated and count as not matching.
 */
export function isAllowed(
  statements: readonly PolicyStatement[],
  action: string,
  resourceArn: string,
): boolean {
  const list = (v: string | readonly string[] | undefined) =>
    v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
  const matches = (s: PolicyStatement) => {
    const actionOk =
      s.Action !== undefined
        ? list(s.Action).some((a) => iamMatches(a, action, true))
        : !list(s.NotAction).some((a) => iamMatches(a, action, true));
    return actionOk && list(s.Resource).some((r) => iamMatches(r, resourceArn));
  };
  if (statements.some((s) => s.Effect === 'Deny' && matches(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && s.Condition === undefined && matches(s));
}

// ---------------------------------------------------------------------------------------
// Running the bundled handler in a fresh Node process

/** Prefix of the line on which the runner reports; everything else is the function's log. */
export const RUNNER_MARKER = '@@bundle-runner@@ ';

/**
 * A tiny ES module that imports a bundle, optionally invokes its handler once, and prints
 * one marker line of JSON: the import time, the result or error, Node's version and the
 * peak resident set size. argv: bundle path, mode (`invoke` | `import`), event JSON,
 * milliseconds the fake Lambda context reports as remaining.
 */
export const RUNNER_SOURCE = `import { pathToFileURL } from 'node:url';
const [bundle, mode = 'invoke', eventJson = '{}', remaining = '60000'] = process.argv.slice(2);
const report = { node: process.version };
const t0 = performance.now();
try {
  const mod = await import(pathToFileURL(bundle).href);
  report.importMs = performance.now() - t0;
  if (mode === 'invoke') {
    const t1 = performance.now();
    try {
      report.result = await mod.handler(JSON.parse(eventJson), {
        getRemainingTimeInMillis: () => Number(remaining),
      });
    } catch (error) {
      report.error = { phase: 'invoke', name: error?.name, message: String(error?.message ?? error) };
    }
    report.invokeMs = performance.now() - t1;
  }
} catch (error) {
  report.error = { phase: 'import', name: error?.name, message: String(error?.message ?? error) };
}
report.maxRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write('\\n${RUNNER_MARKER}' + JSON.stringify(report) + '\\n', () => process.exit(0));
`;

/** Writes the runner into `dir` and returns its path. */
export function writeRunner(dir: string): string {
  const file = path.join(dir, 'bundle-runner.mjs');
  writeFileSync(file, RUNNER_SOURCE);
  return file;
}

export interface RunnerReport {
  readonly node: string;
  readonly importMs?: number;
  readonly invokeMs?: number;
  readonly result?: unknown;
  readonly error?: { phase: 'import' | 'invoke'; name?: string; message: string };
  readonly maxRssMb: number;
}

export interface BundleRun {
  readonly report: RunnerReport;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  /** Wall time of the whole child process, spawn to exit. */
  readonly wallMs: number;
}

/**
 * Runs the bundle in a fresh `node` (the one running this process) with only the given
 * environment plus PATH and a throwaway HOME, so no real AWS configuration can leak in.
 * Asynchronous on purpose: the stand-ins answer from this process's event loop.
 */
export async function runBundle(options: {
  runner: string;
  bundle: string;
  env: Record<string, string>;
  mode?: 'invoke' | 'import';
  event?: unknown;
  remainingMs?: number;
  home: string;
  timeoutMs?: number;
}): Promise<BundleRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: options.home,
    AWS_CONFIG_FILE: path.join(options.home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(options.home, 'no-aws-credentials'),
    ...options.env,
  };
  const started = performance.now();
  const run = await runProcess(
    process.execPath,
    [
      options.runner,
      options.bundle,
      options.mode ?? 'invoke',
      JSON.stringify(options.event ?? {}),
      String(options.remainingMs ?? 60_000),
    ],
    { cwd: options.home, env, timeoutMs: options.timeoutMs ?? 60_000 },
  );
  const wallMs = performance.now() - started;
  const line = run.stdout.split('\n').find((l) => l.startsWith(RUNNER_MARKER));
  if (!line) {
    throw new Error(
      `the runner printed no report (exit ${run.exitCode}):\n${run.stderr.slice(-3000)}\n${run.stdout.slice(-3000)}`,
    );
  }
  const report = JSON.parse(line.slice(RUNNER_MARKER.length)) as RunnerReport;
  const stdout = run.stdout
    .split('\n')
    .filter((l) => !l.startsWith(RUNNER_MARKER))
    .join('\n');
  return { report, stdout, stderr: run.stderr, exitCode: run.exitCode, wallMs };
}

interface ProcessResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
}

function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${command} ${args.slice(0, 2).join(' ')} timed out after ${options.timeoutMs} ms`,
        ),
      );
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
      });
    });
  });
}
