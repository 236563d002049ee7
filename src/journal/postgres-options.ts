/**
 * The `journal: { kind: 'postgres', … }` option as the producer validates it.
 *
 * @internal
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** The postgres member of the producer's journal option. */
export const postgresJournalSchema = z
  .object({
    kind: z.literal('postgres'),
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    pool: z
      .custom<import('../postgres/queryable.js').PgPool>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as { connect?: unknown }).connect === 'function' &&
          typeof (value as { query?: unknown }).query === 'function',
        { message: 'must be a node-postgres Pool' },
      )
      .optional(),
    schema: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,47}$/, 'must be a plain identifier')
      .optional(),
    relayId: z.string().min(1).optional(),
    leaseMs: positiveInt.optional(),
    pollMs: positiveInt.optional(),
    maxClaimed: positiveInt.optional(),
    migrate: z.boolean().optional(),
    groupCommitMs: z.number().int().nonnegative().optional(),
    maxBatch: positiveInt.optional(),
  })
  .strict()
  .refine((value) => value.url !== undefined || value.pool !== undefined, {
    message: 'needs url or pool',
  });
