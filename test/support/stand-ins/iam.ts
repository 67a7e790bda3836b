/**
 * IAM, as far as the tests need it: the statements that apply to a role, resolved to plain
 * strings, and whether they allow a call.
 */

import { FAKE_AWS } from './server.ts';
import type { CfnTemplate } from './synth.ts';

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
      const name = (o['Fn::GetAtt'] as string[]).join('.');
      return pseudo[name] ?? `unresolved:${name}`;
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
