import { createHash } from 'node:crypto';
import { Annotations, Names, Stack, Token } from 'aws-cdk-lib';
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
  /**
   * The name the monitor function was given (`functionName`), when it was given one: the
   * commands are checked against COMMAND_TEXT_MAX with it at synthesis.
   *
   * @default - the function's name is not known until deployment: a warning says so
   */
  readonly monitorFunctionName?: string;
}

/**
 * The payloads the actions send to the monitor function; `$account` is the custom action
 * variable Amazon Q fills in (from the notification for a button, from the command line for
 * an alias: `@Amazon Q run ngrok-snooze main`). The short forms the monitor accepts
 * (lambda/run/commands.ts): the account name alone, which for a snooze means one day, the
 * same as `{"snooze":{"account":"$account","for":"24h"}}`. Short, so the command fits.
 */
export const ACTION_PAYLOADS = {
  snooze: '{"snooze":"$account"}',
  check: '{"check":"$account"}',
  topUp: '{"topUp":"$account"}',
} as const;

/**
 * The longest `CustomActionDefinition.CommandText` Amazon Q's API takes (its API reference;
 * CloudFormation's resource schema says 5000, but the resource handler calls the API).
 * Checked on the command as stored, with `$account` unfilled: Amazon Q fills it in when a
 * person runs the action.
 */
export const COMMAND_TEXT_MAX = 100;
const COMMAND_HEAD = 'lambda invoke --function-name ';
const PAYLOAD_FLAG = ' --payload ';

/** The command an action runs: the AWS CLI without `aws`, as Amazon Q takes it. */
export function actionCommand(functionName: string, payload: string): string {
  return `${COMMAND_HEAD}${functionName}${PAYLOAD_FLAG}${payload}`;
}

/** The longest monitor function name with which every action's command fits (38). */
export const MONITOR_NAME_MAX =
  COMMAND_TEXT_MAX -
  COMMAND_HEAD.length -
  PAYLOAD_FLAG.length -
  Math.max(...Object.values(ACTION_PAYLOADS).map((p) => p.length));

/** Characters of the hash that keeps a cut stack name unique. */
const NAME_HASH_LENGTH = 8;

/**
 * The monitor function's name when the Amazon Q actions are on: a name CloudFormation
 * generates is up to 64 characters and unknown until deployment, too long for the commands.
 * The stack name cut to fit, then a hash of the stack name and the construct's path (so two
 * stacks, or two monitors in one stack, never share a name): at most MONITOR_NAME_MAX.
 */
export function monitorFunctionName(scope: Construct): string {
  const stackName = Stack.of(scope).stackName;
  const hash = createHash('sha256')
    .update(`${Token.isUnresolved(stackName) ? '' : stackName}/${scope.node.path}`)
    .digest('hex')
    .slice(0, NAME_HASH_LENGTH);
  const head = Token.isUnresolved(stackName) ? 'ngrok-balance-alert' : stackName;
  return `${head.slice(0, MONITOR_NAME_MAX - NAME_HASH_LENGTH - 1)}-${hash}`;
}

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

    const command = (payload: string) => actionCommand(props.monitor.functionName, payload);
    this.checkCommandLength(props.monitorFunctionName ?? props.monitor.functionName);
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

  /**
   * Fails synthesis when a command would pass COMMAND_TEXT_MAX; warns when the function's
   * name is not known until deployment (give the function a name of at most MONITOR_NAME_MAX
   * characters: monitorFunctionName, as NgrokBalanceAlert does).
   */
  private checkCommandLength(functionName: string): void {
    if (Token.isUnresolved(functionName)) {
      Annotations.of(this).addWarningV2(
        'ngrok-balance-alert:amazon-q-command-length',
        `The monitor function's name is not known until deployment: a generated name longer ` +
          `than ${MONITOR_NAME_MAX} characters makes the custom actions' commands longer than ` +
          `the ${COMMAND_TEXT_MAX} characters Amazon Q takes. Give it a name (monitorFunctionName).`,
      );
      return;
    }
    this.node.addValidation({
      validate: () =>
        Object.values(ACTION_PAYLOADS)
          .map((payload) => actionCommand(functionName, payload))
          .filter((c) => c.length > COMMAND_TEXT_MAX)
          .map(
            (c) =>
              `The Amazon Q command "${c}" is ${c.length} characters; Amazon Q takes at most ` +
              `${COMMAND_TEXT_MAX}. Use a monitor function name of at most ${MONITOR_NAME_MAX} characters.`,
          ),
    });
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
