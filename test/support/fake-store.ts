import { Readable } from 'node:stream';
import { AppError } from '../../src/errors';
import type { ListPage, ListRequest, ObjectRequest, ObjectResponse, ObjectStore, VersionListRequest, VersionPage } from '../../src/oss/object-store';

/** An ObjectStore for unit tests of the routes: scripted answers, every call recorded. */
export class FakeStore implements ObjectStore {
  readonly calls: Array<{ method: string; request: ObjectRequest | ListRequest | VersionListRequest }> = [];
  objects = new Map<string, { body: Buffer; headers: Record<string, string> }>();
  failWith: AppError | null = null;
  listPage: ListPage = { objects: [], prefixes: [], nextCursor: null };
  versionPage: VersionPage = { versions: [], nextCursor: null };

  put(bucket: string, key: string, body: string, headers: Record<string, string> = {}): void {
    this.objects.set(`${bucket}/${key}`, {
      body: Buffer.from(body),
      headers: {
        'content-type': 'text/plain',
        'content-length': String(Buffer.byteLength(body)),
        etag: '"0123456789ABCDEF0123456789ABCDEF"',
        'accept-ranges': 'bytes',
        'x-oss-request-id': '5C1B138A109F4E405B2D8AEF',
        'x-oss-object-type': 'Normal',
        'x-oss-hash-crc64ecma': '123',
        ...headers,
      },
    });
  }

  async getObject(request: ObjectRequest): Promise<ObjectResponse> {
    return this.answer('GET', request);
  }

  async headObject(request: ObjectRequest): Promise<ObjectResponse> {
    return this.answer('HEAD', request);
  }

  async listObjects(request: ListRequest): Promise<ListPage> {
    this.calls.push({ method: 'LIST', request });
    if (this.failWith) throw this.failWith;
    return this.listPage;
  }

  async listObjectVersions(request: VersionListRequest): Promise<VersionPage> {
    this.calls.push({ method: 'LIST_VERSIONS', request });
    if (this.failWith) throw this.failWith;
    return this.versionPage;
  }

  private answer(method: string, request: ObjectRequest): ObjectResponse {
    this.calls.push({ method, request });
    if (this.failWith) throw this.failWith;
    const object = this.objects.get(`${request.bucket}/${request.key}`);
    if (!object) throw new AppError('NoSuchKey', 'missing');
    return { status: 200, headers: object.headers, body: method === 'GET' ? Readable.from([object.body]) : null };
  }
}
