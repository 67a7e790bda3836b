import { type CfnElement, Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config.ts';
import { MISSED_RUN_PERIODS } from '../lib/monitoring.ts';
import { type CfnTemplate, rolePolicies } from './support/stand-ins/index.ts';
import {
  list,
  logicalIds,
  onlyResource,
  type Synthesized,
  synthesize,
  type TemplateJson,
  text,
} from './support/synth.ts';

interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

interface PolicyDocument {
  readonly Statement: Statement[];
}

/** What the tests need to find in one synthesized stack. */
interface Ids {
  readonly topic: string;
  readonly table: string;
  readonly fn: string;
  readonly role: string;
  readonly logGroup: string;
  readonly failedRunsQueue: string;
}

function idOf(synth: Synthesized, construct: IConstruct): string {
  return synth.stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

function idsOf(synth: Synthesized): Ids {
  const fn = idOf(synth, synth.stack.monitor);
  const props = synth.json.Resources[fn]?.Properties ?? {};
  const role = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const logGroup = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
  const invokeConfig = onlyResource(synth.json, 'AWS::Lambda::EventInvokeConfig').resource;
  const destination = (
    invokeConfig.Properties as {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [string, string] } } };
    }
  ).DestinationConfig.OnFailure.Destination['Fn::GetAtt'][0];
  return {
    topic: idOf(synth, synth.stack.topic),
    table: idOf(synth, synth.stack.alert.stateTable),
    fn,
    role,
    logGroup,
    failedRunsQueue: destination,
  };
}

/** The alarm that fires when the monitor stops completing runs. */
function deadManAlarm(json: TemplateJson): Record<string, unknown> {
  const found = logicalIds(json, 'AWS::CloudWatch::Alarm')
    .map((id) => json.Resources[id]?.Properties ?? {})
    .filter((props) => props.TreatMissingData === 'breaching');
  expect(found).toHaveLength(1);
  return found[0] as Record<string, unknown>;
}

/** Every statement of every policy document in the template, with where it is. */
function allStatements(json: TemplateJson): { where: string; statement: Statement }[] {
  const found: { where: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(json.Resources)) {
    const props = resource.Properties ?? {};
    const documents: PolicyDocument[] = [];
    if (props.PolicyDocument) documents.push(props.PolicyDocument as PolicyDocument);
    for (const policy of list(props.Policies as { PolicyDocument: PolicyDocument }[])) {
      documents.push(policy.PolicyDocument);
    }
    for (const document of documents) {
      for (const statement of list(document.Statement)) found.push({ where: id, statement });
    }
  }
  return found;
}

/** The statements that apply to a role: its inline policies and the policies attached to it. */
function roleStatements(json: TemplateJson, roleId: string): Statement[] {
  const role = json.Resources[roleId];
  const inline = list(role?.Properties?.Policies as { PolicyDocument: PolicyDocument }[]).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
  const attached = Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
    .filter((r) =>
      list(r.Properties?.Roles as unknown[]).some(
        (ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .flatMap((r) => list((r.Properties?.PolicyDocument as PolicyDocument | undefined)?.Statement));
  return [...inline, ...attached];
}

function actionsOf(statement: Statement): string[] {
  return list(statement.Action);
}

/** The resources granted for one action, across every Allow statement of the role. */
function resourcesFor(statements: Statement[], action: string): unknown[] {
  return statements
    .filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action))
    .flatMap((s) => list(s.Resource));
}

const PARAMETER_ARN =
  /^arn:<Ref:AWS::Partition>:ssm:<Ref:AWS::Region>:<Ref:AWS::AccountId>:parameter\//;

/** The parameter names (with their leading slash) that a list of SSM ARNs grants. */
function parameterNamesOf(arns: unknown[]): string[] {
  return arns.map((arn) => {
    const value = text(arn);
    expect(value).toMatch(PARAMETER_ARN);
    expect(value).not.toContain('parameter//');
    return `/${value.replace(PARAMETER_ARN, '')}`;
  });
}

function outputTexts(json: TemplateJson): string[] {
  return Object.values(json.Outputs ?? {}).map((output) => text(output.Value));
}

function parameters(json: TemplateJson): Record<string, { Type: string; Value: string }> {
  return Object.fromEntries(
    logicalIds(json, 'AWS::SSM::Parameter').map((id) => {
      const props = json.Resources[id]?.Properties as { Name: string; Type: string; Value: string };
      return [props.Name, { Type: props.Type, Value: props.Value }];
    }),
  );
}

function subscriptions(json: TemplateJson) {
  return logicalIds(json, 'AWS::SNS::Subscription').map(
    (id) =>
      json.Resources[id]?.Properties as {
        Protocol: string;
        Endpoint: string;
        TopicArn: unknown;
        FilterPolicy?: Record<string, unknown>;
      },
  );
}

/** Acknowledgements recorded with Validations.of(...).acknowledge(): rule id to reason. */
function acknowledgements(scope: IConstruct): { path: string; id: string; reason: unknown }[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}

function nagViolations(synth: Synthesized) {
  return new AwsSolutionsChecks(synth.app).validateScope(synth.app).violations.map((v) => ({
    rule: v.ruleName,
    resources: v.violatingResources.map((r) => r.constructPath),
  }));
}

/** Assertions that hold for any configuration; run against each synthesized variant. */
function commonChecks(get: () => Synthesized) {
  it('passes the cdk-nag AwsSolutions checks', () => {
    expect(nagViolations(get())).toEqual([]);
  });

  it('gives every acknowledged rule a reason of more than 20 characters', () => {
    const { app, stack } = get();
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(typeof ack.reason, `${ack.path} ${ack.id}`).toBe('string');
      expect((ack.reason as string).trim().length, `${ack.path} ${ack.id}`).toBeGreaterThan(20);
    }
    // The same acknowledgements reach the cloud assembly (cdk.out), the audit trail.
    const recorded = app
      .synth()
      .getStackArtifact(stack.artifactId)
      .findMetadataByType(Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.keys(entry.data as unknown as Record<string, unknown>));
    expect(recorded.sort()).toEqual(acks.map((ack) => ack.id).sort());
  });

  it('grants no "*" resource and no wildcard action in any allow statement', () => {
    for (const { where, statement } of allStatements(get().json)) {
      for (const resource of list(statement.Resource)) {
        expect(resource, where).not.toBe('*');
        // A path wildcard (parameter/ngrok-balance-alert/*) would widen a grant silently.
        expect(text(resource), where).not.toMatch(/(^|\/)\*$/);
      }
      if (statement.Effect === 'Allow') {
        for (const action of actionsOf(statement)) expect(action, where).not.toContain('*');
      }
    }
  });

  it('grants no KMS permission (the API key uses the AWS-managed SSM key)', () => {
    for (const { where, statement } of allStatements(get().json)) {
      for (const action of actionsOf(statement)) expect(action, where).not.toMatch(/^kms:/i);
    }
  });

  it('creates no SecureString and contains nothing that looks like an API key', () => {
    const { json } = get();
    const serialized = JSON.stringify(json);
    expect(serialized).not.toContain('SecureString');
    expect(serialized).not.toMatch(/bearer\s/i);
    const resourceIds = new Set(Object.keys(json.Resources));
    const suspicious: string[] = [];
    const visit = (value: unknown): void => {
      if (typeof value === 'string') {
        for (const token of value.match(/[A-Za-z0-9_-]{24,}/g) ?? []) {
          const mixed = /[a-z]/.test(token) && /[A-Z]/.test(token) && /\d/.test(token);
          const hex = /^[0-9a-f]+$/.test(token); // asset hashes
          if (mixed && !hex && !resourceIds.has(token)) suspicious.push(token);
        }
      } else if (Array.isArray(value)) {
        value.forEach(visit);
      } else if (value && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          if (key !== 'Ref' && key !== 'Fn::GetAtt') visit(child);
        }
      }
    };
    visit(json);
    expect(suspicious).toEqual([]);
  });

  it('gives the function no secret in its environment', () => {
    const { json } = get();
    const { fn } = idsOf(get());
    const environment = json.Resources[fn]?.Properties?.Environment as
      | { Variables?: Record<string, unknown> }
      | undefined;
    const variables = environment?.Variables ?? {};
    for (const [name, value] of Object.entries(variables)) {
      expect(name).not.toMatch(/key|token|secret|password|credential/i);
      expect(text(value)).not.toMatch(/parameter\//);
    }
  });

  it('attaches no managed policy to the function role', () => {
    const { json } = get();
    const { role } = idsOf(get());
    expect(json.Resources[role]?.Properties?.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(json)).not.toContain('AWSLambdaBasicExecutionRole');
    expect(logicalIds(json, 'AWS::IAM::ManagedPolicy')).toEqual([]);
  });

  it('sends every alarm, and its recovery, to the topic', () => {
    const { json } = get();
    const { topic } = idsOf(get());
    const alarms = logicalIds(json, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(2);
    for (const id of alarms) {
      const props = json.Resources[id]?.Properties ?? {};
      expect(props.AlarmActions, id).toEqual([{ Ref: topic }]);
      expect(props.OKActions, id).toEqual([{ Ref: topic }]);
    }
  });
}

describe('default stack (-c emails=a@example.com -c thresholdCents=500)', () => {
  let synth: Synthesized;
  let ids: Ids;
  beforeAll(() => {
    synth = synthesize({ emails: 'a@example.com', thresholdCents: '500' });
    ids = idsOf(synth);
  });

  describe('topic', () => {
    it('denies publishing without TLS (aws:SecureTransport false)', () => {
      synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: ids.topic }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Resource: { Ref: ids.topic },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('subscribes exactly a@example.com by email, with no filter', () => {
      expect(subscriptions(synth.json)).toEqual([
        { Protocol: 'email', Endpoint: 'a@example.com', TopicArn: { Ref: ids.topic } },
      ]);
    });
  });

  describe('function', () => {
    it('runs on nodejs24.x, arm64, with the memory, timeout and handler set in the stack', () => {
      expect(synth.json.Resources[ids.fn]?.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 90,
        Handler: 'index.handler',
      });
    });

    it('logs JSON to its own log group', () => {
      expect(synth.json.Resources[ids.logGroup]?.Type).toBe('AWS::Logs::LogGroup');
      expect(synth.json.Resources[ids.fn]?.Properties?.LoggingConfig).toMatchObject({
        LogFormat: 'JSON',
        LogGroup: { Ref: ids.logGroup },
      });
    });

    it('has exactly TOPIC_ARN and STATE_TABLE_NAME in its environment (no API key)', () => {
      expect(synth.json.Resources[ids.fn]?.Properties?.Environment).toEqual({
        Variables: { TOPIC_ARN: { Ref: ids.topic }, STATE_TABLE_NAME: { Ref: ids.table } },
      });
    });

    it('reserves no concurrency by default', () => {
      expect(
        synth.json.Resources[ids.fn]?.Properties?.ReservedConcurrentExecutions,
      ).toBeUndefined();
    });
  });

  describe('IAM', () => {
    let statements: Statement[];
    beforeAll(() => {
      statements = roleStatements(synth.json, ids.role);
    });

    it('lets only the Lambda service assume the role', () => {
      expect(synth.json.Resources[ids.role]?.Properties?.AssumeRolePolicyDocument).toEqual({
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
          },
        ],
        Version: '2012-10-17',
      });
    });

    it('reads exactly the token and threshold parameters (ssm:GetParameters)', () => {
      const arns = resourcesFor(statements, 'ssm:GetParameters');
      expect(arns).toHaveLength(2);
      const joined = arns.map(text);
      for (const suffix of [
        ':parameter/ngrok-balance-alert/api-key',
        ':parameter/ngrok-balance-alert/main/threshold-cents',
      ]) {
        expect(
          joined.filter((arn) => arn.endsWith(suffix)),
          suffix,
        ).toHaveLength(1);
      }
      for (const arn of joined) {
        expect(arn).toMatch(PARAMETER_ARN);
        expect(arn).not.toContain('parameter//');
      }
    });

    it('writes no parameter (ssm:PutParameter): the state lives in the table', () => {
      expect(resourcesFor(statements, 'ssm:PutParameter')).toEqual([]);
    });

    it('reads and writes items of exactly the state table, and nothing else of it', () => {
      const onTable = statements.filter((s) =>
        list(s.Resource).some((r) => JSON.stringify(r).includes(ids.table)),
      );
      expect(onTable).toEqual([
        {
          Sid: 'ReadWriteState',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          Resource: { 'Fn::GetAtt': [ids.table, 'Arn'] },
        },
      ]);
      expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'))).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
      ]);
    });

    it('publishes to exactly the alert topic (sns:Publish)', () => {
      expect(resourcesFor(statements, 'sns:Publish')).toEqual([{ Ref: ids.topic }]);
    });

    it('writes logs to exactly its own log group', () => {
      for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
        expect(resourcesFor(statements, action), action).toEqual([
          { 'Fn::GetAtt': [ids.logGroup, 'Arn'] },
        ]);
      }
      expect(resourcesFor(statements, 'logs:CreateLogGroup')).toEqual([]);
    });

    it('sends failed runs to exactly the failed-runs queue', () => {
      expect(resourcesFor(statements, 'sqs:SendMessage')).toEqual([
        { 'Fn::GetAtt': [ids.failedRunsQueue, 'Arn'] },
      ]);
    });

    it('allows these actions and no others', () => {
      const actions = new Set(
        statements.filter((s) => s.Effect === 'Allow').flatMap((s) => actionsOf(s)),
      );
      expect([...actions].sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sns:Publish',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'ssm:GetParameters',
      ]);
    });
  });

  describe('parameters', () => {
    it('creates the threshold parameter as a String holding "500"', () => {
      synth.template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: '/ngrok-balance-alert/main/threshold-cents',
        Type: 'String',
        Value: '500',
      });
    });

    it('creates no parameter for the API key (the user creates the SecureString) and none for state', () => {
      expect(Object.keys(parameters(synth.json)).sort()).toEqual([
        '/ngrok-balance-alert/main/threshold-cents',
      ]);
    });
  });

  describe('state table', () => {
    it('is keyed by the string pk, on demand, encrypted, with point-in-time recovery', () => {
      expect(synth.json.Resources[ids.table]?.Properties).toEqual({
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        // SSEEnabled false is DynamoDB's default encryption with an AWS owned key (true
        // would mean a KMS key); a table is never stored unencrypted.
        SSESpecification: { SSEEnabled: false },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('is retained when the stack is deleted or the table replaced', () => {
      expect(synth.json.Resources[ids.table]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('is the only table, and its name is a stack output', () => {
      expect(logicalIds(synth.json, 'AWS::DynamoDB::Table')).toEqual([ids.table]);
      expect(synth.json.Outputs?.StateTableName?.Value).toEqual({ Ref: ids.table });
    });
  });

  describe('schedule and retries', () => {
    it('runs the function on rate(15 minutes)', () => {
      synth.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(15 minutes)',
        State: 'ENABLED',
        Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.fn, 'Arn'] } })]),
      });
    });

    it('stops EventBridge from delivering a run older than one schedule period', () => {
      const rule = onlyResource(synth.json, 'AWS::Events::Rule').resource;
      const targets = rule.Properties?.Targets as {
        RetryPolicy?: { MaximumEventAgeInSeconds?: number };
      }[];
      for (const target of targets) {
        expect(target.RetryPolicy?.MaximumEventAgeInSeconds).toBeLessThanOrEqual(900);
      }
    });

    it('lets EventBridge invoke the function', () => {
      synth.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [ids.fn, 'Arn'] },
      });
    });

    it('retries a failed run twice, never past the next run, then queues it', () => {
      const { resource } = onlyResource(synth.json, 'AWS::Lambda::EventInvokeConfig');
      const props = resource.Properties as {
        FunctionName: unknown;
        MaximumRetryAttempts: number;
        MaximumEventAgeInSeconds: number;
      };
      expect(props.FunctionName).toEqual({ Ref: ids.fn });
      expect(props.MaximumRetryAttempts).toBe(2);
      expect(props.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
      expect(props.MaximumEventAgeInSeconds).toBeLessThanOrEqual(900);
      expect(synth.json.Resources[ids.failedRunsQueue]?.Type).toBe('AWS::SQS::Queue');
    });
  });

  describe('alarms', () => {
    it('alarms on function errors', () => {
      synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
      });
    });

    it(`alarms when no run ended without error for ${MISSED_RUN_PERIODS} schedule periods, counting silence`, () => {
      const props = deadManAlarm(synth.json);
      expect(props).toMatchObject({
        EvaluationPeriods: MISSED_RUN_PERIODS,
        DatapointsToAlarm: MISSED_RUN_PERIODS,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
      const metrics = props.Metrics as Array<{
        ReturnData?: boolean;
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string } };
      }>;
      expect(metrics.find((m) => m.ReturnData !== false)?.Expression).toBe(
        'FILL(invocations, 0) - FILL(errors, 0)',
      );
      const stats = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
      expect(stats.map((m) => m.Metric.MetricName).sort()).toEqual(['Errors', 'Invocations']);
      for (const stat of stats) {
        expect(stat).toMatchObject({
          Metric: {
            Namespace: 'AWS/Lambda',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
          },
          Period: 900,
          Stat: 'Sum',
        });
      }
    });

    it('costs $0.30 a month in alarms and declares no custom metric', () => {
      expect(logicalIds(synth.json, 'AWS::CloudWatch::Alarm')).toHaveLength(2);
      expect(JSON.stringify(synth.json)).not.toContain('NgrokBalanceAlert/');
      synth.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    });
  });

  it('lets CloudWatch alarms of this account publish to the topic', () => {
    // A topic policy replaces the default one, which is what normally lets alarms publish.
    synth.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          }),
        ]),
      },
    });
  });

  it("lets only the monitor's role and this account's alarms publish to the topic", () => {
    const policy = onlyResource(synth.json, 'AWS::SNS::TopicPolicy').resource.Properties as {
      Topics: unknown;
      PolicyDocument: PolicyDocument;
    };
    expect(policy.Topics).toEqual([{ Ref: ids.topic }]);
    const role = { 'Fn::GetAtt': [ids.role, 'Arn'] };
    const alarms =
      'arn:<Ref:AWS::Partition>:cloudwatch:<Ref:AWS::Region>:<Ref:AWS::AccountId>:alarm:*';
    const statements = policy.PolicyDocument.Statement.map((st) => ({
      ...st,
      Condition: JSON.parse(JSON.stringify(st.Condition ?? {}), (_key, value) =>
        value && typeof value === 'object' && 'Fn::Join' in value ? text(value) : value,
      ),
    }));
    const topic = { Ref: ids.topic };
    expect(statements).toEqual([
      {
        Sid: 'AllowPublishThroughSSLOnly',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: topic,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'AllowAlarmsOfThisAccount',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: topic,
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': alarms },
        },
      },
      {
        Sid: 'AllowTheMonitor',
        Effect: 'Allow',
        Principal: { AWS: role },
        Action: 'sns:Publish',
        Resource: topic,
        Condition: {},
      },
      {
        // Same-account principals need no resource-policy allow: without this deny, any
        // role whose own policy allows sns:Publish could publish (a forged resolve).
        Sid: 'DenyEveryoneElse',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sns:Publish',
        Resource: topic,
        Condition: {
          StringNotEquals: { 'aws:PrincipalArn': role },
          ArnNotLike: { 'aws:SourceArn': alarms },
        },
      },
    ]);
  });

  describe('outputs and dashboard', () => {
    it('prints the command that changes the threshold', () => {
      const command = outputTexts(synth.json).find((value) =>
        value.includes('aws ssm put-parameter'),
      );
      expect(command).toBeDefined();
      expect(command).toContain('--name /ngrok-balance-alert/main/threshold-cents');
      expect(command).toContain('--type String --overwrite');
      expect(command).toContain('--value 500');
    });

    it('prints the command that sends a test alert', () => {
      const command = outputTexts(synth.json).find((value) => value.includes('aws lambda invoke'));
      expect(command).toBeDefined();
      expect(command).toContain(`--function-name <Ref:${ids.fn}>`);
      expect(command).toContain(`'{"test":true}'`);
    });

    it('prints the command that snoozes the account', () => {
      const snooze = synth.json.Outputs?.SnoozeCommand;
      expect(text(snooze?.Value)).toBe(
        `aws lambda invoke --region <Ref:AWS::Region> --function-name <Ref:${ids.fn}> ` +
          '--cli-binary-format raw-in-base64-out ' +
          `--payload '{"snooze":{"account":"main","for":"24h","note":"why"}}' /dev/stdout`,
      );
    });
  });

  commonChecks(() => synth);
});

describe('stack with -c schedule=rate(1 hour) -c reservedConcurrency=1', () => {
  let synth: Synthesized;
  let ids: Ids;
  beforeAll(() => {
    synth = synthesize({
      emails: 'a@example.com',
      schedule: 'rate(1 hour)',
      reservedConcurrency: '1',
    });
    ids = idsOf(synth);
  });

  it('runs the function on rate(1 hour)', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.fn, 'Arn'] } })]),
    });
  });

  it('sizes the "no successful run" alarm and the retry window from the schedule', () => {
    const alarm = deadManAlarm(synth.json);
    expect(alarm.EvaluationPeriods).toBe(MISSED_RUN_PERIODS);
    for (const metric of alarm.Metrics as Array<{ MetricStat?: { Period: number } }>) {
      if (metric.MetricStat) expect(metric.MetricStat.Period).toBe(3600);
    }
    const { resource } = onlyResource(synth.json, 'AWS::Lambda::EventInvokeConfig');
    expect(resource.Properties?.MaximumEventAgeInSeconds).toBeLessThanOrEqual(3600);
  });

  it('reserves a concurrency of 1', () => {
    expect(synth.json.Resources[ids.fn]?.Properties?.ReservedConcurrentExecutions).toBe(1);
  });

  commonChecks(() => synth);
});

describe('multi-account stack', () => {
  const accounts = [
    {
      name: 'prod',
      tokenParameterName: '/ngrok/prod',
      thresholdCents: 1000,
      criticalThresholdCents: 200,
      emails: ['p@example.com'],
    },
    { name: 'staging', tokenParameterName: '/ngrok/staging', thresholdCents: 300 },
  ];
  let synth: Synthesized;
  let ids: Ids;
  let statements: Statement[];
  beforeAll(() => {
    synth = synthesize({ emails: 'a@example.com', accounts });
    ids = idsOf(synth);
    statements = roleStatements(synth.json, ids.role);
  });

  it('creates threshold and critical threshold parameters per account, and no state parameter', () => {
    expect(parameters(synth.json)).toEqual({
      '/ngrok-balance-alert/prod/threshold-cents': { Type: 'String', Value: '1000' },
      '/ngrok-balance-alert/prod/critical-threshold-cents': { Type: 'String', Value: '200' },
      '/ngrok-balance-alert/staging/threshold-cents': { Type: 'String', Value: '300' },
    });
  });

  it('reads exactly the 5 parameters of the two accounts', () => {
    expect(parameterNamesOf(resourcesFor(statements, 'ssm:GetParameters')).sort()).toEqual([
      '/ngrok-balance-alert/prod/critical-threshold-cents',
      '/ngrok-balance-alert/prod/threshold-cents',
      '/ngrok-balance-alert/staging/threshold-cents',
      '/ngrok/prod',
      '/ngrok/staging',
    ]);
  });

  it('keeps both accounts in the one state table, writing no parameter', () => {
    expect(resourcesFor(statements, 'ssm:PutParameter')).toEqual([]);
    expect(resourcesFor(statements, 'dynamodb:PutItem')).toEqual([
      { 'Fn::GetAtt': [ids.table, 'Arn'] },
    ]);
  });

  it('sends prod alerts to p@example.com through a filter, and everything to a@example.com', () => {
    const subs = subscriptions(synth.json);
    expect(subs).toHaveLength(2);
    expect(subs).toContainEqual({
      Protocol: 'email',
      Endpoint: 'p@example.com',
      TopicArn: { Ref: ids.topic },
      FilterPolicy: { account: ['prod'] },
    });
    expect(subs).toContainEqual({
      Protocol: 'email',
      Endpoint: 'a@example.com',
      TopicArn: { Ref: ids.topic },
    });
  });

  it('prints a set-threshold command per threshold of each account', () => {
    const commands = outputTexts(synth.json).filter((value) =>
      value.includes('aws ssm put-parameter'),
    );
    expect(commands).toHaveLength(3);
    expect(
      commands.some((c) => c.includes('--name /ngrok-balance-alert/prod/threshold-cents')),
    ).toBe(true);
    expect(
      commands.some((c) => c.includes('--name /ngrok-balance-alert/staging/threshold-cents')),
    ).toBe(true);
  });

  commonChecks(() => synth);
});

describe('an address on several recipient lists', () => {
  // SNS refuses a second subscription of the same endpoint with different attributes
  // ("Subscription already exists with different attributes"), and two CloudFormation
  // resources over one subscription would delete it together.
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize({
      emails: 'a@example.com',
      accounts: [
        {
          name: 'prod',
          tokenParameterName: '/ngrok/prod',
          thresholdCents: 1000,
          emails: ['finance@example.com', 'a@example.com'],
        },
        {
          name: 'staging',
          tokenParameterName: '/ngrok/staging',
          thresholdCents: 300,
          emails: ['finance@example.com'],
        },
      ],
    });
  });

  it('is subscribed once', () => {
    const endpoints = subscriptions(synth.json).map((s) => s.Endpoint);
    expect(endpoints.sort()).toEqual(['a@example.com', 'finance@example.com']);
  });

  it('hears about every account that lists it', () => {
    const finance = subscriptions(synth.json).filter((s) => s.Endpoint === 'finance@example.com');
    expect(finance).toHaveLength(1);
    expect(list(finance[0]?.FilterPolicy?.account as string[]).sort()).toEqual(['prod', 'staging']);
  });

  it('hears about everything when it is also on the topic-wide list', () => {
    const a = subscriptions(synth.json).filter((s) => s.Endpoint === 'a@example.com');
    expect(a).toHaveLength(1);
    expect(a[0]?.FilterPolicy).toBeUndefined();
  });
});

describe('account names that differ only in punctuation', () => {
  it('get distinct resources, or a config error naming them (never a construct id clash)', () => {
    const accounts = [
      { name: 'prod-eu', tokenParameterName: '/ngrok/prod-eu', thresholdCents: 1000 },
      { name: 'prod_eu', tokenParameterName: '/ngrok/prod_eu', thresholdCents: 1000 },
    ];
    let synth: Synthesized;
    try {
      synth = synthesize({ accounts });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('prod_eu');
      return;
    }
    expect(Object.keys(parameters(synth.json))).toEqual(
      expect.arrayContaining([
        '/ngrok-balance-alert/prod-eu/threshold-cents',
        '/ngrok-balance-alert/prod_eu/threshold-cents',
      ]),
    );
  });
});

describe('stack with both Slack channels', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize({
      emails: 'a@example.com',
      slackWorkspaceId: 'T0123456789',
      slackChannelId: 'C0123456789',
      slackWebhookParameterName: '/ngrok-balance-alert/slack-webhook-url',
    });
  });

  it('subscribes an Amazon Q Slack channel configuration to the alert topic', () => {
    synthesized.template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: 'T0123456789',
      SlackChannelId: 'C0123456789',
      SnsTopicArns: [{ Ref: Match.stringLikeRegexp('^AlertTopic') }],
    });
  });

  it('subscribes the webhook function to the alert topic', () => {
    synthesized.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlertTopic') },
    });
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    const violations = new AwsSolutionsChecks(synthesized.app).validateScope(
      synthesized.app,
    ).violations;
    expect(violations).toEqual([]);
  });

  it('warns that every message would be posted to Slack twice', () => {
    const warnings = synthesized.app
      .synth()
      .getStackArtifact(synthesized.stack.artifactId)
      .messages.filter((m) => m.level === 'warning')
      .map((m) => String(m.entry.data));
    expect(warnings).toContainEqual(
      expect.stringContaining('every message will be posted to Slack twice'),
    );
  });

  it('lists the Slack webhook function in channelFunctions', () => {
    const { slack } = synthesized.stack.alert.channelFunctions;
    expect(slack).toBeDefined();
    expect(
      synthesized.json.Resources[
        synthesized.stack.getLogicalId(slack?.node.defaultChild as CfnElement)
      ]?.Type,
    ).toBe('AWS::Lambda::Function');
  });
});

describe('stack with 100 accounts', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    const accounts = Array.from({ length: 100 }, (_, i) => ({
      name: `client-${String(i).padStart(3, '0')}`,
      tokenParameterName: `/ngrok-balance-alert/client-${String(i).padStart(3, '0')}/api-key`,
      thresholdCents: 1000,
      criticalThresholdCents: 200,
    }));
    synthesized = synthesize({ emails: 'a@example.com', accounts });
  });

  it('stays within 200 outputs: the critical commands give way, with a warning', () => {
    const ids = Object.keys(synthesized.json.Outputs ?? {});
    expect(ids).toHaveLength(105);
    expect(ids.filter((id) => id.startsWith('SetCriticalThresholdCommand'))).toEqual([]);
    const warnings = synthesized.app
      .synth()
      .getStackArtifact(synthesized.stack.artifactId)
      .messages.filter((m) => m.level === 'warning')
      .map((m) => String(m.entry.data));
    expect(warnings).toContainEqual(
      expect.stringContaining('No SetCriticalThresholdCommand outputs: 100 of them would exceed'),
    );
  });

  it('keeps exact parameter ARNs within IAM size quotas, so the deploy is not rejected', () => {
    // Prepare
    const roleId = logicalIds(synthesized.json, 'AWS::IAM::Role').find((id) =>
      id.startsWith('MonitorRole'),
    );
    expect(roleId).toBeDefined();
    // Act
    const policies = rolePolicies(synthesized.json as unknown as CfnTemplate, roleId as string, {});
    // Assess
    const inline = policies.filter((p) => p.type === 'AWS::IAM::Policy');
    const managed = policies.filter((p) => p.type === 'AWS::IAM::ManagedPolicy');
    expect(inline.reduce((sum, p) => sum + p.size, 0)).toBeLessThanOrEqual(10_240);
    expect(Math.max(0, ...managed.map((p) => p.size))).toBeLessThanOrEqual(6_144);
    expect(managed.length).toBeLessThanOrEqual(10);
    const resourcesOf = (action: string) =>
      policies
        .flatMap((p) => p.statements)
        .filter((s) => [s.Action].flat().includes(action))
        .flatMap((s) => [s.Resource].flat());
    const reads = resourcesOf('ssm:GetParameters');
    expect(reads).toHaveLength(300);
    expect(new Set(reads).size).toBe(300);
    expect(
      reads.every((arn) => /:parameter\/ngrok-balance-alert\/client-\d{3}\//.test(String(arn))),
    ).toBe(true);
    expect(resourcesOf('ssm:PutParameter')).toHaveLength(0);
  });
});

describe('too many long names for one role', () => {
  it('fails synth with the fix instead of failing the deployment', () => {
    const accounts = Array.from({ length: 100 }, (_, i) => ({
      name: `client-with-a-rather-long-name-for-testing-${String(i).padStart(3, '0')}`,
      tokenParameterName: `/${'deeply/nested/path/'.repeat(20)}client-${i}/api-key`,
      thresholdCents: 1000,
      criticalThresholdCents: 100,
    }));
    expect(() => synthesize({ emails: 'a@example.com', accounts })).toThrow(
      /managed policies .*split the accounts over two stacks/s,
    );
  });
});
