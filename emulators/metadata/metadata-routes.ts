/**
 * What the emulated metadata service answers, as a pure function of the request and its state.
 * Status codes follow the ECS docs ("Instance metadata", FAQ "I cannot access instance metadata
 * using commands in security hardening mode"):
 * https://www.alibabacloud.com/help/en/ecs/user-guide/view-instance-metadata
 */

import type { IncomingHttpHeaders } from 'node:http';
import { imdsCredentialDocument, uriCredentialDocument } from './credential-documents';
import { MetadataTokens, parseTokenTtl, TOKEN_HEADER, TOKEN_TTL_HEADER } from './metadata-tokens';
import type { RoleCredentials } from './role-credentials';

export type MetadataRoute = 'token' | 'roleList' | 'credentials' | 'uri' | 'other';

export const TOKEN_PATH = '/latest/api/token';
export const ROLE_LIST_PATH = '/latest/meta-data/ram/security-credentials/';
/** Not an IMDS path: the `credentials_uri` form, served beside IMDS for hosts that are not ECS. */
export const CREDENTIALS_URI_PATH = '/v1/credentials';

export interface MetadataRequest {
  readonly method: string;
  /** The path without its query string, not percent-decoded. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export interface MetadataState {
  readonly tokens: MetadataTokens;
  readonly credentials: RoleCredentials;
  /** The attached instance RAM role; null when none is attached. */
  readonly role: string | null;
  /** "Security hardening mode only" (HttpTokens=required). */
  readonly hardenedOnly: boolean;
}

export interface MetadataAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export function routeOf(path: string): MetadataRoute {
  if (path === TOKEN_PATH) return 'token';
  if (path === CREDENTIALS_URI_PATH) return 'uri';
  if (path === ROLE_LIST_PATH || path === ROLE_LIST_PATH.slice(0, -1)) return 'roleList';
  if (path.startsWith(ROLE_LIST_PATH)) return 'credentials';
  return 'other';
}

export function answerMetadataRequest(request: MetadataRequest, state: MetadataState): MetadataAnswer {
  switch (routeOf(request.path)) {
    case 'token':
      return answerTokenRequest(request, state.tokens);
    case 'uri':
      return answerCredentialsUri(request, state);
    default:
      return answerMetadataRead(request, state);
  }
}

function answerTokenRequest(request: MetadataRequest, tokens: MetadataTokens): MetadataAnswer {
  if (request.method !== 'PUT') return methodNotAllowed('PUT');
  // A proxy in the path is the SSRF shape hardened mode exists to stop: ECS refuses the token
  // PUT with "403 - Forbidden" when it carries X-Forwarded-For (docs FAQ, see top of file).
  if (request.headers['x-forwarded-for'] !== undefined) return plain(403, '403 - Forbidden');
  const ttlSeconds = parseTokenTtl(request.headers[TOKEN_TTL_HEADER]);
  if (ttlSeconds === undefined) return plain(400, '400 - Missing or Invalid Parameters');
  return plain(200, tokens.issue(ttlSeconds));
}

/** Every read under /latest/: the token gate first, then the RAM role paths. */
function answerMetadataRead(request: MetadataRequest, state: MetadataState): MetadataAnswer {
  if (request.method !== 'GET') return methodNotAllowed('GET');
  const refusal = tokenRefusal(request, state);
  if (refusal) return refusal;
  const route = routeOf(request.path);
  if (route === 'roleList') return state.role === null ? notFound() : plain(200, state.role);
  if (route === 'credentials') return answerRoleCredential(request.path, state);
  return notFound();
}

/**
 * ECS docs: a bad token is "401 - Unauthorized" in either mode; with hardened mode enforced,
 * "any attempt to access metadata in normal mode returns a 403 - Forbidden error".
 */
function tokenRefusal(request: MetadataRequest, state: MetadataState): MetadataAnswer | undefined {
  const token = request.headers[TOKEN_HEADER];
  if (typeof token === 'string') {
    return state.tokens.check(token) === 'valid' ? undefined : plain(401, '401 - Unauthorized');
  }
  return state.hardenedOnly ? plain(403, '403 - Forbidden') : undefined;
}

function answerRoleCredential(path: string, state: MetadataState): MetadataAnswer {
  const asked = path.slice(ROLE_LIST_PATH.length).replace(/\/$/, '');
  if (state.role === null || asked !== state.role) return notFound();
  return json(imdsCredentialDocument(state.credentials.forRole(state.role)));
}

function answerCredentialsUri(request: MetadataRequest, state: MetadataState): MetadataAnswer {
  if (request.method !== 'GET') return methodNotAllowed('GET');
  if (state.role === null) return notFound();
  return json(uriCredentialDocument(state.credentials.forRole(state.role)));
}

function plain(status: number, body: string): MetadataAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

function json(document: Record<string, string>): MetadataAnswer {
  return { status: 200, contentType: 'application/json', body: JSON.stringify(document, null, 2) };
}

function notFound(): MetadataAnswer {
  return plain(404, '404 - Not Found');
}

function methodNotAllowed(allow: string): MetadataAnswer {
  return { ...plain(405, '405 - Method Not Allowed'), headers: { Allow: allow } };
}
