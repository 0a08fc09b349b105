import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StsRegistry } from '../sts-registry';

/**
 * The STS `AssumeRoleWithOIDC` endpoint, as RRSA on ACK uses it: a pod posts
 * its service-account token (the OIDC token file) with the role and OIDC
 * provider ARNs and gets an STS triple for the role. HTTPS only, because
 * @alicloud/credentials always calls STS over https; the caller must trust
 * the certificate it is given (NODE_EXTRA_CA_CERTS for a child process).
 * Issued credentials go into the shared StsRegistry, so the OSS emulator
 * accepts them for the role named in the ARN.
 */
export interface StsEmulatorOptions {
  sts: StsRegistry;
  /** PEM key and certificate for 127.0.0.1. */
  tls: { key: string; cert: string };
  /** The OIDC provider ARN tokens must come with. */
  oidcProviderArn: string;
  /** Tokens STS accepts (what the cluster's OIDC issuer signed). */
  acceptedTokens: readonly string[];
  credentialTtlMs?: number;
}

export interface StsCall {
  action: string | null;
  roleArn?: string;
  roleSessionName?: string;
  status: number;
  code?: string;
}

export class StsEmulator {
  readonly calls: StsCall[] = [];
  private readonly server: Server;
  private port: number | undefined;

  constructor(private readonly options: StsEmulatorOptions) {
    this.server = createServer(options.tls, (req, res) => void this.handle(req, res));
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        resolve(this.port);
      });
    });
  }

  /** What ALIBABA_CLOUD_STS_ENDPOINT takes: host and port, no scheme. */
  get endpoint(): string {
    if (this.port === undefined) throw new Error('the STS emulator is not listening');
    return `127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', 'https://sts').searchParams;
    const form = new URLSearchParams(await readBody(req));
    const call: StsCall = {
      action: query.get('Action'),
      roleArn: form.get('RoleArn') ?? undefined,
      roleSessionName: form.get('RoleSessionName') ?? undefined,
      status: 200,
    };
    this.calls.push(call);
    const refuse = (status: number, code: string, message: string) => {
      call.status = status;
      call.code = code;
      send(res, status, { RequestId: requestId(), HostId: 'sts.aliyuncs.com', Code: code, Message: message });
    };
    if (req.method !== 'POST' || call.action !== 'AssumeRoleWithOIDC') return refuse(400, 'InvalidAction.NotFound', 'Specified api is not found.');
    const role = /^acs:ram::\d+:role\/([A-Za-z0-9.@_-]+)$/.exec(call.roleArn ?? '');
    if (!role) return refuse(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.');
    if (form.get('OIDCProviderArn') !== this.options.oidcProviderArn) {
      return refuse(404, 'EntityNotExist.OIDCProvider', 'The specified OIDC provider does not exist.');
    }
    if (!this.options.acceptedTokens.includes(form.get('OIDCToken') ?? '')) {
      return refuse(400, 'AuthenticationFail.OIDCToken.Invalid', 'The OIDC token is invalid.');
    }
    const ttlMs = this.options.credentialTtlMs ?? Number(form.get('DurationSeconds') ?? 3600) * 1000;
    const issued = this.options.sts.issue(role[1], ttlMs);
    send(res, 200, {
      RequestId: requestId(),
      AssumedRoleUser: {
        Arn: `${call.roleArn}/${call.roleSessionName}`,
        AssumedRoleId: `3${randomBytes(8).toString('hex')}:${call.roleSessionName}`,
      },
      Credentials: {
        AccessKeyId: issued.accessKeyId,
        AccessKeySecret: issued.accessKeySecret,
        SecurityToken: issued.securityToken,
        Expiration: new Date(issued.expiresAt ?? 0).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function requestId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}
