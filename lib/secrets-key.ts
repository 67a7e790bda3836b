import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Lets a role decrypt with the customer-managed key of the user's SecureStrings, through SSM
 * only: the role can read the parameters, not use the key on anything else. Nothing when
 * no key is configured (the AWS managed aws/ssm key needs no grant).
 */
export function grantSecretsKey(role: iam.IRole, keyArn: string | undefined): void {
  if (keyArn === undefined) return;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DecryptSecretsThroughSsm',
      actions: ['kms:Decrypt'],
      resources: [keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `ssm.${Aws.REGION}.amazonaws.com` } },
    }),
  );
}
