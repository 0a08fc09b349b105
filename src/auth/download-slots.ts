import { AppError } from '../errors';
import { ConcurrencyLimiter } from './concurrency-limiter';

/**
 * MAX_DOWNLOADS_PER_TOKEN: the download jobs one caller may run at once. The
 * downloads routes take a slot per new job (acquireDownloadSlot) and give it
 * back when the job ends; past the cap a caller gets 429.
 */
export function downloadSlots(maxPerCaller: number): ConcurrencyLimiter {
  return new ConcurrencyLimiter(
    maxPerCaller,
    (name) => new AppError('TooManyRequests', `The caller ${name} already runs ${maxPerCaller} downloads.`, { headers: { 'Retry-After': '5' } }),
  );
}
