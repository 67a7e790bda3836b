/**
 * Benchmark baseline: the least a balance check can do with the same three AWS SDK clients
 * (SSMClient, SNSClient, DynamoDBClient), bundled with the stack's esbuild settings.
 * Comparing the real bundle against it shows what the monitor's own code costs in size, cold
 * import time and memory, separately from what the SDK costs. Not deployed; not a fallback.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';

const ssm = new SSMClient({});
const sns = new SNSClient({});
const dynamodb = new DynamoDBClient({});

const KEY = '/ngrok-balance-alert/api-key';
const THRESHOLD = '/ngrok-balance-alert/main/threshold-cents';
const STATE_KEY = 'account#main';

export async function handler(): Promise<{ balanceCents: number; published: boolean }> {
  const table = process.env.STATE_TABLE_NAME;
  const out = await ssm.send(
    new GetParametersCommand({ Names: [KEY, THRESHOLD], WithDecryption: true }),
  );
  const value = (name: string) => out.Parameters?.find((p) => p.Name === name)?.Value;
  const state = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: STATE_KEY } }, ConsistentRead: true }),
  );
  const version = Number(state.Item?.version?.N ?? '0');
  const wasLow = state.Item?.record?.S === 'low';
  const baseUrl = process.env.NGROK_API_URL || 'https://api.ngrok.ai';
  const response = await fetch(`${baseUrl}/credits/balance`, {
    headers: { authorization: `Bearer ${value(KEY) ?? ''}` },
  });
  if (!response.ok) throw new Error(`GET /credits/balance failed with HTTP ${response.status}`);
  const { balanceCents } = (await response.json()) as { balanceCents: number };
  const low = balanceCents < Number(value(THRESHOLD) ?? '1000');
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
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: STATE_KEY },
          version: { N: String(version + 1) },
          record: { S: low ? 'low' : 'ok' },
        },
        ...(version === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#v = :read',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':read': { N: String(version) } },
            }),
      }),
    );
  }
  return { balanceCents, published: low && !wasLow };
}
