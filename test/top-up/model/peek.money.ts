import { runSequence } from '/work/wt/topup/test/top-up/model/sequence.ts';

const r = await runSequence(Number(process.argv[2] ?? 1003));
console.log(r.trace.join('\n'));
console.log(r.violations);
