import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { NgrokBalanceAlert, type NgrokBalanceAlertProps } from './ngrok-balance-alert.ts';

export interface NgrokBalanceAlertStackProps extends StackProps {
  /** The construct's props, parsed from context by lib/config.ts. */
  readonly config: NgrokBalanceAlertProps;
}

/** The standalone app's stack: the NgrokBalanceAlert construct and nothing else. */
export class NgrokBalanceAlertStack extends Stack {
  readonly alert: NgrokBalanceAlert;

  constructor(scope: Construct, id: string, props: NgrokBalanceAlertStackProps) {
    super(scope, id, props);
    // "Default" keeps the construct out of logical ids: stacks deployed before the construct
    // existed update in place instead of replacing their topic and parameters.
    this.alert = new NgrokBalanceAlert(this, 'Default', props.config);
  }

  get topic(): ITopic {
    return this.alert.topic;
  }

  get monitor(): IFunction {
    return this.alert.monitorFunction;
  }
}
