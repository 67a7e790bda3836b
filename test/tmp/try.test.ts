import { it } from 'vitest';
import { main } from '../../lambda/cli.ts';
const respond = (status: number, body: unknown) => async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
it('shows', async () => {
  for (const [name, f] of [
    ['401', (async (u: string) => new Response(JSON.stringify({ msg: 'bad key' }), { status: 401 })) as unknown as typeof fetch],
    ['low', (async (u: string) => String(u).includes('balance') ? new Response(JSON.stringify({ balanceCents: 500 }), { status: 200 }) : new Response('{"msg":"x"}', { status: 500 })) as unknown as typeof fetch],
  ] as const) {
    let out = '';
    const code = await main(['check'], { NGROK_API_KEY: 'abcdefghijkl', AWS_REGION: 'eu-west-1' }, { stdout: (s) => (out += s), stderr: (s) => (out += `ERR:${s}`), fetch: f });
    console.log(`==== ${name} code=${code} lines=${out.split('\n').length} max=${Math.max(...out.split('\n').map((l) => l.length))}\n${out}`);
  }
});
