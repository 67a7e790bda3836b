/**
 * Builds the stack the way bin/ngrok-balance-alert.ts does, from a plain context object,
 * for template assertions. The feature flags from cdk.json are applied too, so the
 * template matches what `cdk synth` produces.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type AppConfig, loadConfig } from '../../lib/config.ts';
import { NgrokBalanceAlertStack } from '../../lib/ngrok-balance-alert-stack.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context?: Record<string, unknown>;
};

/** The feature flags and other context that cdk.json gives every `cdk synth`. */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = cdkJson.context ?? {};

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: unknown;
}

export interface TemplateJson {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string }>;
}

export interface Synthesized {
  readonly app: App;
  readonly config: AppConfig;
  readonly stack: NgrokBalanceAlertStack;
  readonly template: Template;
  readonly json: TemplateJson;
}

/**
 * Validates `context` with loadConfig (throws its ConfigError, unknown keys included, as the
 * app does) and synthesizes the stack. Call once per describe, in beforeAll.
 */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, ...context } });
  const config = loadConfig(
    (key) => app.node.tryGetContext(key),
    Object.keys(app.node.getAllContext()),
  );
  const stack = new NgrokBalanceAlertStack(app, config.stackName, { config: config.props });
  const template = Template.fromStack(stack);
  return { app, config, stack, template, json: template.toJSON() as TemplateJson };
}

/** Logical ids of the resources of one type. */
export function logicalIds(json: TemplateJson, type: string): string[] {
  return Object.entries(json.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
}

/** The one resource of a type; fails when there are none or several. */
export function onlyResource(
  json: TemplateJson,
  type: string,
): { id: string; resource: CfnResource } {
  const ids = logicalIds(json, type);
  if (ids.length !== 1) {
    throw new Error(`expected exactly one ${type}, found ${ids.length}: ${ids.join(', ')}`);
  }
  const id = ids[0] as string;
  return { id, resource: json.Resources[id] as CfnResource };
}

/**
 * A CloudFormation string value as text: literal parts kept, intrinsics shown as
 * `<Ref:X>`, `<GetAtt:X.Y>` or `<...>`. Joins are flattened.
 */
export function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(text).join(separator);
    }
    if ('Ref' in object) return `<Ref:${String(object.Ref)}>`;
    if ('Fn::GetAtt' in object) {
      return `<GetAtt:${(object['Fn::GetAtt'] as string[]).join('.')}>`;
    }
  }
  return `<${JSON.stringify(value)}>`;
}

/** A value that CloudFormation accepts as one item or a list, as a list. */
export function list<T>(value: T | readonly T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...(value as T[])] : [value as T];
}
