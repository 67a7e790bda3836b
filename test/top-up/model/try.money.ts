import { runSequence } from './sequence.ts';

const from = Number(process.argv[2] ?? 1000);
const n = Number(process.argv[3] ?? 50);
const t0 = Date.now();
let bad = 0;
let purchases = 0;
const count = new Map<string, number>();
const seeds = new Map<string, number>();
for (let s = from; s < from + n; s++) {
  const r = await runSequence(s);
  purchases += r.purchases;
  if (r.violations.length) {
    bad++;
    for (const v of r.violations) {
      const k = v.replace(/cp_\d+|run\d+|\d{4}-\d\d|\d+/g, '#');
      count.set(k, (count.get(k) ?? 0) + 1);
      if (!seeds.has(k)) seeds.set(k, s);
    }
  }
}
console.log({ n, bad, purchases, ms: Date.now() - t0 });
console.log(
  [...count.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([k, c]) => `${c} ${seeds.get(k)} ${k}`)
    .join('\n'),
);
