/** The bytes of an object, readable at any offset without holding the whole object. */
export interface ObjectContent {
  readonly size: number;
  /** `length` bytes from `offset`; the caller keeps within [0, size). May be a view of stored bytes: never write into it. */
  read(offset: number, length: number): Buffer;
}

/** An object body held in memory (uploaded by a test). */
export class BufferContent implements ObjectContent {
  constructor(private readonly body: Buffer) {}

  get size(): number {
    return this.body.length;
  }

  read(offset: number, length: number): Buffer {
    return this.body.subarray(offset, offset + length);
  }
}
