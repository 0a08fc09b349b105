import { isIP } from 'node:net';
import OSS from 'ali-oss';
import type { Clock } from '../clock';
import type { CredentialsProvider, StsCredentials } from '../credentials/credential-provider-wrapper';
import { AppError } from '../errors';
import type { AliOssOptions, SignatureUrlV1 } from './ali-oss-internals';
import { credentialOptions } from './oss-request-signer';
import type { ObjectUrlSigner, PresignedUrl, PresignRequest } from './object-url-signer';

/**
 * Presigned GET URLs for redirect mode, signed with ali-oss's public API
 * (`signatureUrlV4`, or `signatureUrl` for OSS_SIGNATURE_VERSION=1) with the
 * triple the CredentialsProvider hands out at the moment of signing: the URL
 * carries that triple's STS token, so it must not outlive it.
 *
 * ali-oss builds the URL's host itself, in ways a client cannot always use:
 * with an IP endpoint `signatureUrlV4` returns `http://IP:PORT/{key}` with no
 * bucket anywhere, and `signatureUrl` (V1) refuses an IP endpoint. Neither
 * signature covers the host (V1 signs `/{bucket}/{key}`, V4 the canonical URI
 * `/{bucket}/{key}`), so the URL is signed against a host name and then put on
 * the endpoint clients reach: virtual-host style `https://{bucket}.{endpoint
 * host}/{key}` for a real endpoint, path style `http://IP:PORT/{bucket}/{key}`
 * for an IP or localhost (an emulator, a private gateway).
 */
export interface AliOssUrlSignerOptions {
  credentials: CredentialsProvider;
  /** e.g. cn-beijing */
  region: string;
  /** The endpoint clients reach: OSS_PUBLIC_ENDPOINT, else OSS_ENDPOINT. */
  endpoint: string;
  /** Buckets of other regions (OSS_BUCKET_REGIONS): signed for their region, on their region's endpoint. */
  bucketRegions?: Readonly<Record<string, { region: string; endpoint: string }>>;
  signatureVersion: 1 | 4;
  /** REDIRECT_EXPIRES_SECONDS: how long a URL lives, at most. */
  expiresSeconds: number;
  /** CREDENTIALS_EXPIRY_MARGIN_SECONDS: a URL never lives into the credential's last margin. */
  expiryMarginMs: number;
  clock: Clock;
}

/** Where a bucket's URLs point and which region signs them. */
interface UrlTarget {
  region: string;
  base: URL;
  pathStyle: boolean;
}

export class AliOssUrlSigner implements ObjectUrlSigner {
  private readonly home: UrlTarget;

  constructor(private readonly options: AliOssUrlSignerOptions) {
    this.home = urlTarget(options.region, options.endpoint);
  }

  async presignGet(request: PresignRequest): Promise<PresignedUrl> {
    const creds = await this.options.credentials.getCredentials();
    const now = this.options.clock.now();
    const expiresSeconds = this.lifetimeSeconds(creds, now);
    const target = this.target(request.bucket);
    const client = this.client(creds, request.bucket, target);
    const version = request.versionId === undefined ? {} : { versionId: request.versionId };
    const signed =
      this.options.signatureVersion === 4
        ? await client.signatureUrlV4(
            'GET',
            expiresSeconds,
            {
              headers: {},
              queries: { ...version, ...(request.contentDisposition ? { 'response-content-disposition': request.contentDisposition } : {}) },
            },
            request.key,
          )
        : // strictObjectNameValidation off: a key may start with `?`; ali-oss escapes it in the path.
          (client as unknown as SignatureUrlV1).signatureUrl(
            request.key,
            {
              expires: expiresSeconds,
              subResource: version,
              ...(request.contentDisposition ? { response: { 'content-disposition': request.contentDisposition } } : {}),
            },
            false,
          );
    return { url: onClientEndpoint(signed, request.bucket, target), expiresAt: now + expiresSeconds * 1000 };
  }

  private target(bucket: string): UrlTarget {
    const mapped = this.options.bucketRegions?.[bucket];
    return mapped && mapped.region !== this.options.region ? urlTarget(mapped.region, mapped.endpoint) : this.home;
  }

  /** REDIRECT_EXPIRES_SECONDS, cut short so that the URL dies before the credential's expiry margin begins. */
  private lifetimeSeconds(creds: StsCredentials, now: number): number {
    if (creds.expiresAt === null) return this.options.expiresSeconds;
    // V1's Expires is ali-oss's Math.round(Date.now() / 1000) + lifetime: up to half a second more.
    const roundingSeconds = this.options.signatureVersion === 1 ? 1 : 0;
    const left = Math.floor((creds.expiresAt - this.options.expiryMarginMs - now) / 1000) - roundingSeconds;
    if (left < 1) {
      throw new AppError('CredentialsUnavailable', 'The OSS credential in hand expires too soon to sign a URL with it.');
    }
    return Math.min(this.options.expiresSeconds, left);
  }

  private client(creds: StsCredentials, bucket: string, target: UrlTarget): OSS {
    const options: AliOssOptions = {
      ...credentialOptions(creds),
      bucket,
      // A host name: V1 signatureUrl throws for an IP, and the host is not signed (the class comment).
      endpoint: target.pathStyle ? `https://oss-${target.region}.aliyuncs.com` : target.base.toString(),
      region: `oss-${target.region}`,
      secure: true,
    };
    return new OSS(options);
  }
}

function urlTarget(region: string, endpoint: string): UrlTarget {
  const base = new URL(endpoint);
  return { region, base, pathStyle: isIP(base.hostname.replace(/^\[|\]$/g, '')) !== 0 || base.hostname === 'localhost' };
}

/** The signed path and query, on the host clients reach. */
function onClientEndpoint(signed: string, bucket: string, target: UrlTarget): string {
  const { pathname, search } = new URL(signed);
  const { protocol, host } = target.base;
  return target.pathStyle ? `${protocol}//${host}/${bucket}${pathname}${search}` : `${protocol}//${bucket}.${host}${pathname}${search}`;
}
