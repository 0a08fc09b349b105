import type { Response } from 'express';
import { AppError } from '../errors';
import type { ObjectUrlSigner } from '../oss/object-url-signer';
import type { ObjectAddress } from './object-address';
import { attachmentHeader } from './object-headers';

/**
 * Redirect mode: answer GET /v1/objects/{bucket}/{key} with 307 and a
 * presigned OSS URL for exactly that object, so the bytes go from OSS to the
 * caller and not through this service. The route runs it after the same
 * checks as a proxied GET (caller token, OSS_ALLOW, scopes, key), so a
 * refused request never gets a URL.
 *
 * The trade-off (docs/api.md, Redirect mode): the URL carries the STS token of the
 * service's role, good for that one object until it expires
 * (REDIRECT_EXPIRES_SECONDS, never past the credential's own expiry minus the
 * margin); the caller must reach the OSS endpoint; and ranges, conditionals
 * and the CRC check are between the caller and OSS.
 */
export interface ObjectRedirectOptions {
  signer: ObjectUrlSigner;
  /** OBJECT_DELIVERY: what a GET without `?redirect=` gets. */
  defaultDelivery: 'proxy' | 'redirect';
}

/**
 * `?redirect=true` or `false` decides; without it, OBJECT_DELIVERY. Only GET
 * is redirected: a URL is signed for one method, and a HEAD has no body to
 * take off the service, so HEAD is always answered here.
 */
export function wantsRedirect(
  options: ObjectRedirectOptions | undefined,
  method: 'GET' | 'HEAD',
  requested: boolean | undefined,
): options is ObjectRedirectOptions {
  if (method !== 'GET' || requested === false) return false;
  if (options === undefined) {
    if (requested) throw new AppError('InvalidRequest', 'Redirect mode is not available on this service.');
    return false;
  }
  return requested ?? options.defaultDelivery === 'redirect';
}

/** `?download=1` and `?filename=` travel in the URL as `response-content-disposition`: OSS answers with that header. */
export async function redirectToObject(
  options: ObjectRedirectOptions,
  res: Response,
  address: ObjectAddress,
  attachment: { download?: boolean; filename?: string; versionId?: string },
): Promise<void> {
  const contentDisposition = attachment.download || attachment.filename ? attachmentHeader(address.key, attachment.filename) : undefined;
  const { versionId } = attachment;
  const { url } = await options.signer.presignGet({ bucket: address.bucket, key: address.key, contentDisposition, versionId });
  res.status(307);
  res.setHeader('Location', url);
  // The URL holds a credential and dies in minutes: no cache may keep or share it.
  res.setHeader('Cache-Control', 'no-store');
  res.end();
}
