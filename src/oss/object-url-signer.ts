/**
 * What redirect mode sees of OSS: a presigned GET URL for one object. One
 * implementation (ali-oss-url-signer.ts) signs with ali-oss's public API;
 * unit tests pass fakes. Throws AppError with this project's codes.
 */
export interface ObjectUrlSigner {
  presignGet(request: PresignRequest): Promise<PresignedUrl>;
}

export interface PresignRequest {
  bucket: string;
  key: string;
  /** Signed into the URL as `response-content-disposition`: OSS answers with this Content-Disposition. */
  contentDisposition?: string;
  /** One version of the object, signed into the URL as the `versionId` sub-resource. */
  versionId?: string;
}

export interface PresignedUrl {
  url: string;
  /** Epoch ms after which OSS refuses the URL. */
  expiresAt: number;
}
