/**
 * Synthesizes the app with the CDK CLI into a temporary cloud assembly and finds the monitor
 * function (and its bundle) in it.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runProcess } from './bundle-runner.ts';
import { REPO_ROOT } from './server.ts';

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

/** A channel subscriber of the synthesized stack: its bundle, environment and role. */
export interface SynthesizedChannel {
  readonly channel: string;
  readonly bundle: string;
  readonly environment: Record<string, string>;
  readonly roleId: string;
}

/** The channel subscribers (functions with CHANNEL in their environment) of a cloud assembly. */
export function findChannelFunctions(outdir: string, template: CfnTemplate): SynthesizedChannel[] {
  return Object.values(template.Resources).flatMap((r) => {
    if (r.Type !== 'AWS::Lambda::Function') return [];
    const props = r.Properties ?? {};
    const env = (props.Environment as { Variables?: Record<string, string> } | undefined)
      ?.Variables;
    const assetPath = r.Metadata?.['aws:asset:path'];
    if (typeof env?.CHANNEL !== 'string' || typeof assetPath !== 'string') return [];
    const role = props.Role as { 'Fn::GetAtt': [string, string] };
    return [
      {
        channel: env.CHANNEL,
        bundle: path.resolve(outdir, assetPath, 'index.mjs'),
        environment: env,
        roleId: role['Fn::GetAtt'][0],
      },
    ];
  });
}
