import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ESM_BUNDLING } from './bundling.ts';

const lambdaDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lambda');

export interface BundledFunctionProps {
  /** File in lambda/ that exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** What the role is for, shown in IAM. */
  readonly roleDescription: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** Values compiled into the bundle (esbuild `define`). @default - none */
  readonly define?: Record<string, string>;
  /** @default - no reservation */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A Node.js 24 arm64 function bundled by the local esbuild, with its own log group (kept
 * a month, JSON logs) and its own role. The role writes only to that log group, through an
 * inline statement rather than the managed basic-execution policy; callers add the rest.
 * Construct ids: `${id}Logs`, `${id}Role` and `id` for the function.
 */
export function createBundledFunction(scope: Construct, id: string, props: BundledFunctionProps) {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: props.roleDescription,
  });
  // The log group ARN attribute already ends in ":*", which covers the streams Lambda
  // creates in it.
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: path.join(lambdaDir, props.entry),
    handler: 'handler',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
    systemLogLevelV2: lambda.SystemLogLevel.WARN,
    reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    environment: props.environment,
    description: props.description,
    bundling: props.define ? { ...ESM_BUNDLING, define: props.define } : ESM_BUNDLING,
  });
  return { fn, role, logGroup };
}
