/**
 * AWS calls and time per run, in-process against in-memory stand-ins (settings, topic, ngrok
 * API, state store), with runs spaced as the schedule spaces them (15 minutes): a quiet run
 * (every balance healthy) and an alerting run (every account just dropped below its
 * threshold), at 1 and 100 accounts. Printed beside the figures of the previous release,
 * which kept state in SSM parameters.
 */
import { runMonitor } from '../lambda/run/monitor.ts';
import { MemoryStore } from '../lambda/store/store.ts';
import { accountConfig, MINUTE, monitorConfig, NOW, World } from '../test/support/run-harness.ts';

const SCHEDULE_MS = 15 * MINUTE;
const TIMED_RUNS = 15;

/** Quiet-run calls per account in 0.2.0, from the state issue's measurements on that release. */
const PREVIOUS =
  '0.2.0 quiet run per account: 2 SSM GetParameters + 1 PutParameter (before 0.2.0: 1 read, 0 writes)';

interface Row {
  accounts: number;
  run: 'quiet' | 'alerting';
  ssmReads: number;
  storeReads: number;
  storeWrites: number;
  publishes: number;
  medianMs: number;
}

export async function printRuns(): Promise<void> {
  console.log('\nCalls per run (in-process, in-memory stand-ins, runs 15 minutes apart)');
  console.log(`  previous: ${PREVIOUS}`);
  const rows: Row[] = [];
  for (const count of [1, 100]) {
    for (const kind of ['quiet', 'alerting'] as const) rows.push(await measure(count, kind));
  }
  const header = [
    'accounts',
    'run',
    'SSM reads',
    'store reads',
    'store writes',
    'publishes',
    'median',
  ];
  const lines = [
    header,
    ...rows.map((r) => [
      String(r.accounts),
      r.run,
      String(r.ssmReads),
      String(r.storeReads),
      String(r.storeWrites),
      String(r.publishes),
      `${r.medianMs.toFixed(1)} ms`,
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  for (const line of lines)
    console.log(`  ${line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}`);
  console.log(
    '  SSM reads: GetParameters calls (10 names each). The digest record adds one store read ' +
      'per run (not per account) when the digest is on; it is off here.',
  );
}

async function measure(count: number, kind: 'quiet' | 'alerting'): Promise<Row> {
  const accounts = Array.from({ length: count }, (_, i) => accountConfig(`acct-${i + 1}`));
  const config = monitorConfig(accounts);
  const store = new MemoryStore<unknown>();
  const world = new World(store);
  for (const a of accounts) world.seed(a, 5000, 1000);
  let at = NOW.getTime();
  // Two runs to settle the readings, then the measured run, as the schedule spaces them.
  for (let i = 0; i < 2; i++) {
    await runMonitor(config, world.deps(new Date(at)), { eventId: `warm-${i}` });
    at += SCHEDULE_MS;
  }
  if (kind === 'alerting') for (const a of accounts) world.setBalance(a, 900);
  const before = {
    ssm: world.calls.getParameters,
    reads: store.reads,
    writes: store.writes,
    pub: world.calls.publish,
  };
  await runMonitor(config, world.deps(new Date(at)), { eventId: 'measured' });
  const row = {
    accounts: count,
    run: kind,
    ssmReads: world.calls.getParameters - before.ssm,
    storeReads: store.reads - before.reads,
    storeWrites: store.writes - before.writes,
    publishes: world.calls.publish - before.pub,
  };
  // Time: the same kind of run repeated on fresh worlds, median of TIMED_RUNS.
  const times: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const w = new World(new MemoryStore<unknown>());
    for (const a of accounts) w.seed(a, 5000, 1000);
    await runMonitor(config, w.deps(new Date(NOW.getTime())), { eventId: 'a' });
    if (kind === 'alerting') for (const a of accounts) w.setBalance(a, 900);
    const t0 = performance.now();
    await runMonitor(config, w.deps(new Date(NOW.getTime() + SCHEDULE_MS)), { eventId: 'b' });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ...row, medianMs: times[Math.floor(times.length / 2)] ?? 0 };
}

/**
 * The cold-import cost of validating saved state: the schemas (valibot) bundled alone,
 * against an empty module bundled the same way, each imported in fresh node processes.
 */
export async function printValidationImport(workDir: string): Promise<void> {
  const { build } = await import('esbuild');
  const { spawnSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const schemas = path.join(workDir, 'schemas.mjs');
  const empty = path.join(workDir, 'empty.mjs');
  await build({
    entryPoints: [path.resolve(import.meta.dirname, '../lambda/store/state-schema.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    minify: true,
    outfile: schemas,
  });
  writeFileSync(empty, 'export {};\n');
  const time = (file: string) => {
    const out = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-t)`,
      ],
      { encoding: 'utf8' },
    );
    return Number(out.stdout.trim());
  };
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 15; i++) {
    a.push(time(schemas));
    b.push(time(empty));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  console.log(
    '\nState validation (valibot schemas) cold import, 15 fresh processes each, alternating',
  );
  console.log(
    `  schemas ${median(a).toFixed(2)} ms, empty module ${median(b).toFixed(2)} ms: ` +
      `${(median(a) - median(b)).toFixed(2)} ms added to a cold start (medians)`,
  );
}
