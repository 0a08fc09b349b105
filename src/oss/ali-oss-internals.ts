/**
 * What @types/ali-oss leaves out of ali-oss 6.23 and this project uses, read
 * in node_modules/ali-oss/lib (client.js, common/client/initOptions.js,
 * object.js). Declared here as local types, because the package's
 * `export =` declarations cannot be augmented cleanly.
 */
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type OSS from 'ali-oss';

export interface AliOssOptions extends OSS.Options {
  /** Keep-alive agents shared by every client: building a client per request stays cheap. */
  agent?: HttpAgent;
  httpsAgent?: HttpsAgent;
}

/** The parameter object ali-oss's own methods build and hand to `request`. */
export interface RawRequestParams {
  method: string;
  object: string;
  bucket: string;
  headers?: Record<string, string>;
  timeout?: number;
  /** Sub-resources (`versionId`, `versions`): in the query, and signed by V1 as V4 (lib/common/utils/createRequest.js). */
  subres?: Record<string, string>;
  /** Other query parameters: signed by V4 only, as OSS expects. */
  query?: Record<string, string>;
  /** Return the response stream unread instead of buffering it. */
  customResponse?: boolean;
  /** Any other status throws. */
  successStatuses?: number[];
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The response stream itself (customResponse). */
  res: IncomingMessage;
}

/** The two methods under `getStream` and `head`: signing, agents and timeouts included. */
export interface RawOssClient {
  _objectRequestParams(
    method: string,
    name: string,
    options: { headers?: Record<string, string>; timeout?: number; subres?: Record<string, string> },
  ): RawRequestParams;
  request(params: RawRequestParams): Promise<RawResponse>;
}

/**
 * `signatureUrl` (V1) as ali-oss 6.23 declares it in lib/common/object/signatureUrl.js: the
 * third parameter, `strictObjectNameValidation` (refuse a name starting with `?`), is public
 * there but missing from @types/ali-oss.
 */
export interface SignatureUrlV1 {
  signatureUrl(name: string, options: OSS.SignatureUrlOptions, strictObjectNameValidation: boolean): string;
}
