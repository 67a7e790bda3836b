/**
 * Benchmark baseline: the least a balance check can do with the same two AWS SDK clients
 * (SSMClient, SNSClient), bundled with the stack's esbuild settings. Comparing the real
 * bundle against it shows what the monitor's own code costs in size, cold import time and
 * memory, separately from what the SDK costs. Not deployed; not a fallback.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

const ssm = new SSMClient({});
const sns = new SNSClient({});

const KEY = '/ngrok-balance-alert/api-key';
const THRESHOLD = '/ngrok-balance-alert/main/threshold-cents';
const STATE = '/ngrok-balance-alert/main/state';

export async function handler(): Promise<{ balanceCents: number; published: boolean }> {
  const out = await ssm.send(
    new GetParametersCommand({ Names: [KEY, THRESHOLD, STATE], WithDecryption: true }),
  );
  const value = (name: string) => out.Parameters?.find((p) => p.Name === name)?.Value;
  const baseUrl = process.env.NGROK_API_URL || 'https://api.ngrok.ai';
  const response = await fetch(`${baseUrl}/credits/balance`, {
    headers: { authorization: `Bearer ${value(KEY) ?? ''}` },
  });
  if (!response.ok) throw new Error(`GET /credits/balance failed with HTTP ${response.status}`);
  const { balanceCents } = (await response.json()) as { balanceCents: number };
  const low = balanceCents < Number(value(THRESHOLD) ?? '1000');
  const wasLow = value(STATE) === 'low';
  if (low && !wasLow) {
    const subject = `ngrok credits low: ${balanceCents} cents left`;
    await sns.send(
      new PublishCommand({
        TopicArn: process.env.TOPIC_ARN,
        Subject: subject,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: subject, email: subject }),
      }),
    );
  }
  if (low !== wasLow) {
    await ssm.send(
      new PutParameterCommand({
        Name: STATE,
        Value: low ? 'low' : 'ok',
        Type: 'String',
        Overwrite: true,
      }),
    );
  }
  return { balanceCents, published: low && !wasLow };
}
