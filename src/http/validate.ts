import type { z } from 'zod';
import { AppError } from '../errors';

/** Parse a request part with a zod schema; a mismatch is 400 InvalidRequest naming each bad field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw new AppError('InvalidRequest', `Invalid ${what}: ${problems.join('; ')}.`);
}
