import express, { type Request, type RequestHandler } from 'express';
import type { z } from 'zod';
import { AppError } from '../errors';
import { validate } from './validate';

/**
 * JSON request bodies: `application/json` only (415 otherwise), at most
 * `limitBytes` (413), parsed strictly (objects and arrays only), then checked
 * against a zod schema. Give it a `z.strictObject`, so unknown fields are a 400
 * instead of being silently dropped.
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  return [
    (req, _res, next) => {
      if (!req.is('application/json')) {
        throw new AppError('InvalidRequest', 'The request body must be application/json.', { status: 415 });
      }
      next();
    },
    express.json({ limit: limitBytes, strict: true, type: () => true }),
  ];
}

/** The parsed body as `schema` says, or 400 InvalidRequest naming each bad field. */
export function bodyOf<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  return validate(schema, req.body, 'body');
}
