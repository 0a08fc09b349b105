/**
 * What @types/ali-oss leaves out of ali-oss 6.23 and this project uses, read
 * in node_modules/ali-oss/lib (client.js, common/signUtils.js,
 * common/object/signatureUrl.js). Declared here as local types, because the
 * package's `export =` declarations cannot be augmented cleanly.
 */
import type OSS from 'ali-oss';

export type AliOssOptions = OSS.Options;

/**
 * ali-oss's own Authorization-header signing (lib/client.js), which its request
 * path calls from lib/common/utils/createRequest.js. Both read the triple and
 * the region from the client's options; neither sends anything.
 */
export interface AliOssHeaderSigning {
  /**
   * V4: `OSS4-HMAC-SHA256 Credential=...,Signature=...`. `headers` must hold
   * `x-oss-date` (yyyymmddTHHMMssZ) and `x-oss-content-sha256`; `queries`
   * are every query parameter, a sub-resource without a value as null.
   */
  authorizationV4(
    method: string,
    request: { headers: Record<string, string>; queries: Record<string, string | null> },
    bucket: string,
    key: string,
    additionalHeaders?: string[],
  ): string;
  /**
   * V1: `OSS {AccessKeyId}:{signature}`. `resource` is `/{bucket}/{key}` with
   * the key as it is (not URL-encoded); `subres` the sub-resources V1 signs.
   */
  authorization(method: string, resource: string, subres: Record<string, string> | undefined, headers: Record<string, string>): string;
  /** `aliyun-sdk-nodejs/6.23.0 Node.js ...`: sent as User-Agent on every request. */
  readonly userAgent: string;
}

/**
 * `signatureUrl` (V1) as ali-oss 6.23 declares it in lib/common/object/signatureUrl.js: the
 * third parameter, `strictObjectNameValidation` (refuse a name starting with `?`), is public
 * there but missing from @types/ali-oss.
 */
export interface SignatureUrlV1 {
  signatureUrl(name: string, options: OSS.SignatureUrlOptions, strictObjectNameValidation: boolean): string;
}
