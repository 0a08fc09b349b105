import { createHmac } from 'node:crypto';
import { headerText } from './header-text';
import type { OssRequest } from './parse-request';

/**
 * OSS signature V1: `Authorization: OSS {AccessKeyId}:{base64(HMAC-SHA1)}`
 * over
 *
 *   VERB \n Content-MD5 \n Content-Type \n Date \n
 *   CanonicalizedOSSHeaders CanonicalizedResource
 *
 * where the Date slot holds `x-oss-date` when the client sent one (ali-oss
 * sends only `x-oss-date`, never `Date`), and CanonicalizedResource is
 * `/{bucket}/{key}` with the raw (unescaped) key plus the sub-resources below.
 */
export interface V1Credentials {
  accessKeyId: string;
  signature: string;
}

export function parseV1Authorization(header: string): V1Credentials | undefined {
  const match = /^OSS ([^:\s]+):(\S+)$/.exec(header.trim());
  return match ? { accessKeyId: match[1], signature: match[2] } : undefined;
}

/**
 * `expires`: for a presigned URL (`?OSSAccessKeyId=&Expires=&Signature=`), its
 * `Expires` (epoch seconds) takes the Date slot.
 */
export function v1StringToSign(request: OssRequest, expires?: string): string {
  const { headers } = request;
  const lines = [
    request.method.toUpperCase(),
    headerText(headers['content-md5'] ?? ''),
    headerText(headers['content-type'] ?? ''),
    expires ?? headerText(headers['x-oss-date'] ?? headers.date ?? ''),
    ...canonicalizedOssHeaders(headers),
    canonicalizedResource(request),
  ];
  return lines.join('\n');
}

export function v1Signature(accessKeySecret: string, stringToSign: string): string {
  return createHmac('sha1', accessKeySecret).update(stringToSign, 'utf8').digest('base64');
}

function canonicalizedOssHeaders(headers: Record<string, string>): string[] {
  return Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${headerText(headers[name]).trim()}`);
}

function canonicalizedResource(request: OssRequest): string {
  const path = request.bucket === '' ? '/' : `/${request.bucket}/${request.key}`;
  const subResources = request.queryPairs
    .filter(([name]) => SIGNED_SUB_RESOURCES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => (value === '' ? name : `${name}=${value}`));
  return subResources.length === 0 ? path : `${path}?${subResources.join('&')}`;
}

/**
 * Query parameters that V1 signs; all others (prefix, max-keys, list-type...)
 * are left out. The list the OSS SDKs carry (Go's `signKeyList`, C's
 * `g_s_oss_sub_resource_list`).
 */
const SIGNED_SUB_RESOURCES = new Set([
  'acl',
  'append',
  'asyncFetch',
  'bucketInfo',
  'callback',
  'callback-var',
  'cname',
  'comp',
  'continuation-token',
  'cors',
  'delete',
  'encryption',
  'endTime',
  'img',
  'inventory',
  'inventoryId',
  'lifecycle',
  'live',
  'location',
  'logging',
  'objectMeta',
  'partNumber',
  'policy',
  'position',
  'qos',
  'qosInfo',
  'referer',
  'regionList',
  'replication',
  'replicationLocation',
  'replicationProgress',
  'requestPayment',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'response-content-language',
  'response-content-type',
  'response-expires',
  'restore',
  'security-token',
  'sequential',
  'startTime',
  'stat',
  'status',
  'style',
  'styleName',
  'symlink',
  'tagging',
  'transferAcceleration',
  'uploadId',
  'uploads',
  'versionId',
  'versioning',
  'versions',
  'vod',
  'website',
  'worm',
  'wormExtend',
  'wormId',
  'x-oss-ac-forward-allow',
  'x-oss-ac-source-ip',
  'x-oss-ac-subnet-mask',
  'x-oss-ac-vpc-id',
  'x-oss-process',
  'x-oss-request-payer',
  'x-oss-traffic-limit',
]);
