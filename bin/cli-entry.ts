/**
 * The `ngrok-balance-alert` command as the package ships it: `npm run build` bundles this
 * into dist/cli.mjs, so an installed package runs it without tsx or TypeScript. (In the
 * repository, bin/ngrok-balance-alert-cli.mjs runs the sources through tsx instead.)
 */
import { main } from '../lambda/cli.ts';

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive: process.stderr.isTTY === true,
});
