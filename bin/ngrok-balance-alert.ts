#!/usr/bin/env node
/**
 * The CDK app: reads and validates context once, builds the stack, and registers the
 * cdk-nag AwsSolutions checks so every `cdk synth` shows their findings.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { NgrokBalanceAlertStack } from '../lib/ngrok-balance-alert-stack.ts';

const app = new App();
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext()));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A plain message, not a stack trace: the fix is in the context, not the code.
  console.error(error.message);
  process.exit(1);
}

new NgrokBalanceAlertStack(app, config.stackName, {
  config: config.props,
  description: 'Alerts before ngrok AI Gateway credits run out (ngrok-balance-alert)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
