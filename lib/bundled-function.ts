import { cpSync, existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { LAMBDA_DIST } from './package-root.ts';

export interface BundledFunctionProps {
  /** Entry in lambda/ whose prebuilt bundle runs (see scripts/build.mjs). */
  readonly entry: 'handler' | 'slack-webhook' | 'channel';
  readonly description: string;
  /** What the role is for, shown in IAM. */
  readonly roleDescription: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** Files written next to the bundle's index.mjs, by name. @default - none */
  readonly files?: Record<string, string>;
  /** @default - no reservation */
  readonly reservedConcurrentExecutions?: number;
  /** @default - a name CloudFormation generates */
  readonly functionName?: string;
}

/**
 * A Node.js 24 arm64 function running a bundle prebuilt when the package is built, with its own log group (kept
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
  const fn = new lambda.Function(scope, id, {
    code: prebuiltCode(props.entry, props.files ?? {}),
    handler: 'index.handler',
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
    ...(props.functionName !== undefined && { functionName: props.functionName }),
  });
  return { fn, role, logGroup };
}

/**
 * The prebuilt bundle as an asset, with `files` staged next to it. The staging is CDK's
 * local bundling: a copy, no Docker (the image is never pulled because it succeeds), and
 * the asset is hashed by its output, so a change of `files` alone updates the function.
 */
function prebuiltCode(entry: string, files: Record<string, string>): lambda.Code {
  const dir = path.join(LAMBDA_DIST, entry);
  if (!existsSync(path.join(dir, 'index.mjs'))) {
    throw new Error(
      `The prebuilt function code ${path.join(dir, 'index.mjs')} is missing. In a clone of ` +
        'the repository, run npm run build (npm ci does not build; npm test and cdk synth do).',
    );
  }
  if (Object.keys(files).length === 0) return lambda.Code.fromAsset(dir);
  return lambda.Code.fromAsset(dir, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox'),
      local: {
        tryBundle(outputDir) {
          cpSync(dir, outputDir, { recursive: true });
          for (const [name, text] of Object.entries(files)) {
            writeFileSync(path.join(outputDir, name), text);
          }
          return true;
        },
      },
    },
  });
}
