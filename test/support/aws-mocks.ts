/**
 * The SSM and SNS client mocks the in-process monitor tests share: GetParameters reads an
 * in-memory parameter store, PutParameter writes back to it, and every publish succeeds.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetParametersCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** `store` is read on every call, so a test may replace its map in `beforeEach`. */
export function serveParameters(
  ssm: AwsClientStub<SSMClient>,
  sns: AwsClientStub<SNSClient>,
  store: () => Map<string, string>,
): void {
  ssm.on(GetParametersCommand).callsFake((input: { Names: string[] }) => {
    const parameters = store();
    return {
      Parameters: input.Names.filter((n) => parameters.has(n)).map((Name) => ({
        Name,
        Value: parameters.get(Name),
      })),
      InvalidParameters: input.Names.filter((n) => !parameters.has(n)),
    };
  });
  ssm.on(PutParameterCommand).callsFake((input: { Name: string; Value: string }) => {
    store().set(input.Name, input.Value);
    return { Version: 2 };
  });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
}
