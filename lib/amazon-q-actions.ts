import { Names } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { formatCents } from '../lambda/common/money.ts';
import type { NotificationKind } from '../lambda/common/types.ts';

/** One account as the actions need it. */
export interface AmazonQActionAccount {
  /** The account's `name`: what the actions' payloads name. */
  readonly name: string;
  /**
   * The account's `autoTopUpCents`: one purchase. Set only where auto top-up is configured,
   * which is where "Buy now" is offered.
   *
   * @default - auto top-up off: no "Buy now" for this account
   */
  readonly autoTopUpCents?: number;
}

export interface AmazonQActionsProps {
  /** The monitor function: the only thing the actions (and the channel's role) may invoke. */
  readonly monitor: lambda.IFunction;
  /** The accounts the monitor watches. */
  readonly accounts: readonly AmazonQActionAccount[];
}

/**
 * The payloads the actions send to the monitor function; `$account` is the custom action
 * variable Amazon Q fills in (from the notification for a button, from the command line for
 * an alias: `@Amazon Q run ngrok-snooze main`).
 */
export const ACTION_PAYLOADS = {
  snooze: '{"snooze":{"account":"$account","for":"24h"}}',
  check: '{"check":{"account":"$account"}}',
  topUp: '{"topUp":{"account":"$account"}}',
} as const;

/** What a person types after `@Amazon Q run`. At most 30 characters (the API's limit). */
export const ACTION_ALIASES = {
  snooze: 'ngrok-snooze',
  check: 'ngrok-check',
  topUp: 'ngrok-buy',
} as const;

/**
 * Amazon Q's notification type for custom notifications, and where a custom notification
 * carries the fields our buttons read (render-amazon-q.ts puts them in
 * `metadata.additionalContext`). NOT VERIFIED: the Amazon Q documentation we could read
 * names the attachment fields (NotificationType, Variables, Criteria with HAS_VALUE or
 * EQUALS) but not their values for custom notifications. If a button does not show, these
 * three strings are the place to change; the aliases work either way.
 */
export const CUSTOM_NOTIFICATION_TYPE = 'Custom';
export const NOTIFICATION_VARIABLES = {
  account: 'event.metadata.additionalContext.account',
  kind: 'event.metadata.additionalContext.kind',
} as const;

/** The notifications that get "Snooze 1 day" and "Check now": a problem, alerted or reminded. */
const PROBLEM_KINDS: readonly NotificationKind[] = [
  'balance-alert',
  'balance-reminder',
  'spike-started',
  'spike-reminder',
  'monitor-failing',
  'monitor-reminder',
];
/** The notifications that get "Buy now": the ones that may carry a pay link. */
const BUY_KINDS: readonly NotificationKind[] = [
  'balance-alert',
  'balance-reminder',
  'spike-started',
  'spike-reminder',
];
/** Per-account "Buy" buttons (needed when accounts differ) up to this many accounts. */
const MAX_PER_ACCOUNT_BUTTONS = 10;

/**
 * Amazon Q Developer custom actions for the channel: "Snooze 1 day", "Check now" and, where
 * auto top-up is configured, "Buy $X now". Each is an AWS CLI command that invokes the
 * monitor function with a payload, run under the channel's role from a button on the
 * monitor's notifications or by its alias.
 *
 * Permissions: the channel's role may call `lambda:InvokeFunction` on the monitor function
 * and nothing else, and the channel's guardrail (`guardrail`) is a policy allowing exactly
 * that, so no channel member can do more through the channel whatever role is attached.
 */
export class AmazonQActions extends Construct {
  /** The custom actions, in the order snooze, check, buy. */
  readonly actions: readonly chatbot.CfnCustomAction[];
  /** The channel guardrail: invoke the monitor function, nothing else. */
  readonly guardrail: iam.ManagedPolicy;

  constructor(
    scope: Construct,
    id: string,
    props: AmazonQActionsProps & { readonly role: iam.IRole },
  ) {
    super(scope, id);
    const invokeMonitor = () =>
      new iam.PolicyStatement({
        sid: 'InvokeMonitorOnly',
        actions: ['lambda:InvokeFunction'],
        resources: [props.monitor.functionArn],
      });
    props.role.addToPrincipalPolicy(invokeMonitor());
    this.guardrail = new iam.ManagedPolicy(this, 'Guardrail', {
      description:
        'Amazon Q channel guardrail for the ngrok balance alerts: invoke the monitor function, nothing else',
      statements: [invokeMonitor()],
    });

    const command = (payload: string) =>
      `lambda invoke --function-name ${props.monitor.functionName} --payload ${payload}`;
    const actions = [
      this.action(
        'Snooze',
        'snooze',
        command(ACTION_PAYLOADS.snooze),
        kindButtons('Snooze 1 day', PROBLEM_KINDS),
      ),
      this.action(
        'Check',
        'check',
        command(ACTION_PAYLOADS.check),
        kindButtons('Check now', PROBLEM_KINDS),
      ),
    ];
    const buyers = props.accounts.filter((a) => a.autoTopUpCents !== undefined);
    if (buyers.length > 0) {
      actions.push(
        this.action(
          'Buy',
          'topUp',
          command(ACTION_PAYLOADS.topUp),
          buyButtons(buyers, props.accounts.length),
        ),
      );
    }
    this.actions = actions;
  }

  /** The actions' ARNs, for the channel configuration's CustomizationResourceArns. */
  get arns(): string[] {
    return this.actions.map((a) => a.attrCustomActionArn);
  }

  private action(
    id: string,
    kind: keyof typeof ACTION_ALIASES,
    commandText: string,
    attachments: chatbot.CfnCustomAction.CustomActionAttachmentProperty[],
  ): chatbot.CfnCustomAction {
    const suffix = `-${ACTION_ALIASES[kind].replace(/^ngrok-/, '')}`;
    return new chatbot.CfnCustomAction(this, id, {
      // Custom actions are named per AWS account (their ARN has no region): unique per stack.
      actionName: `${Names.uniqueResourceName(this, {
        maxLength: 64 - suffix.length,
        separator: '-',
        allowedSpecialCharacters: '-_',
      })}${suffix}`,
      aliasName: ACTION_ALIASES[kind],
      definition: { commandText },
      attachments,
    });
  }
}

/** One button per notification kind, on every account's notifications. */
function kindButtons(
  buttonText: string,
  kinds: readonly NotificationKind[],
  account?: string,
): chatbot.CfnCustomAction.CustomActionAttachmentProperty[] {
  return kinds.map((kind) => ({
    notificationType: CUSTOM_NOTIFICATION_TYPE,
    buttonText,
    variables: { ...NOTIFICATION_VARIABLES },
    criteria: [
      { operator: 'HAS_VALUE', variableName: 'account' },
      { operator: 'EQUALS', variableName: 'kind', value: kind },
      ...(account === undefined
        ? []
        : [{ operator: 'EQUALS', variableName: 'account', value: account }]),
    ],
  }));
}

/**
 * "Buy $X now" buttons: on every account's notifications when every account buys the same
 * amount, else per account with its own amount (up to MAX_PER_ACCOUNT_BUTTONS accounts; past
 * that, one "Buy credits now" button, and the monitor refuses an account without auto top-up
 * with a reason).
 */
function buyButtons(
  buyers: readonly AmazonQActionAccount[],
  accountCount: number,
): chatbot.CfnCustomAction.CustomActionAttachmentProperty[] {
  const amounts = new Set(buyers.map((a) => a.autoTopUpCents));
  if (buyers.length === accountCount && amounts.size === 1) {
    return kindButtons(`Buy ${formatCents(buyers[0]?.autoTopUpCents ?? 0)} now`, BUY_KINDS);
  }
  if (buyers.length > MAX_PER_ACCOUNT_BUTTONS) return kindButtons('Buy credits now', BUY_KINDS);
  return buyers.flatMap((a) =>
    kindButtons(`Buy ${formatCents(a.autoTopUpCents ?? 0)} now`, BUY_KINDS, a.name),
  );
}
