import { ArnFormat, type Stack } from 'aws-cdk-lib';

/**
 * The ARN of a parameter by name. There is exactly one slash after "parameter" whether or
 * not the name starts with one: a double slash is an AccessDenied in production.
 */
export function parameterArn(stack: Stack, name: string): string {
  return stack.formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: name.replace(/^\/+/, ''),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
