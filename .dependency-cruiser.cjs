/**
 * The layering of lambda/, checked by `npm run lint`:
 * - no import cycles anywhere;
 * - decisions (watches, observe, store records, common, notify) import no AWS SDK: only the
 *   run loop, the store implementation and the entry points talk to AWS;
 * - watches never reach into the run loop, and nothing below the loop imports it.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle ties modules together: move the shared piece down a layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'decisions-import-no-aws-sdk',
      severity: 'error',
      comment:
        'Decisions and renderers are pure: AWS calls belong in lambda/run or the store implementation.',
      from: {
        path: '^lambda/(watches|observe|common|notify/render|notify/content|notify/format|config)',
      },
      to: { path: '@aws-sdk' },
    },
    {
      name: 'store-records-import-no-aws-sdk',
      severity: 'error',
      from: { path: '^lambda/store/(state|outbox|account-record|store)\\.ts$' },
      to: { path: '@aws-sdk' },
    },
    {
      name: 'only-entry-points-import-the-run-loop',
      severity: 'error',
      comment: 'The run loop wires the watches; the watches never wire the loop.',
      from: { path: '^lambda/(watches|observe|store|common|notify|config|ngrok)/' },
      to: { path: '^lambda/run/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|cdk\\.out)' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
