#!/usr/bin/env node
/**
 * The CDK app: reads and validates context once, builds the stack, and registers the
 * cdk-nag AwsSolutions checks so every `cdk synth` shows their findings.
 *
 * It first builds the Lambda bundles (scripts/build.ts), in its own process rather than as
 * a step of cdk.json's "app" command: the CDK CLI ends every failed synth with the app
 * command line, and a command that starts with the build reads as if the build had failed
 * when it was the configuration that was refused.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { NgrokBalanceAlertStack } from '../lib/ngrok-balance-alert-stack.ts';

/**
 * Runs `step`; a failure the user can fix from the command line (a ConfigError, or the
 * construct's validations such as the stack limits) is printed as its message alone and
 * ends the process. Anything else is a bug and keeps its stack trace.
 */
function orExit<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    const ours =
      error instanceof ConfigError ||
      (error instanceof Error && error.message.startsWith('Validation failed'));
    if (!ours) throw error;
    // A plain message, not a stack trace: the fix is in the context, not the code.
    console.error((error as Error).message);
    process.exit(1);
  }
}

// The Lambda bundles the stack deploys, from the sources (no declarations: synth needs none).
execFileSync(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(new URL('../scripts/build.ts', import.meta.url)), '--no-types'],
  { stdio: 'inherit' },
);

const app = new App();
const config = orExit(() =>
  loadConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext())),
);

new NgrokBalanceAlertStack(app, config.stackName, {
  config: config.props,
  description: 'Alerts before ngrok AI Gateway credits run out (ngrok-balance-alert)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
// Synthesized here rather than when the process exits, so a validation error is caught above.
orExit(() => app.synth());
