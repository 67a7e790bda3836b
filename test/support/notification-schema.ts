/**
 * The version 2 notification JSON Schema (schemas/notification-v2.schema.json), compiled once
 * for the tests that check renderings against it.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';

export const notificationV2Schema = JSON.parse(
  readFileSync(new URL('../../schemas/notification-v2.schema.json', import.meta.url), 'utf8'),
) as { properties: Record<string, unknown>; definitions: Record<string, unknown> };

export const validateNotificationV2 = new Ajv({ allErrors: true, strict: true }).compile(
  notificationV2Schema,
);
