import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createOssEmulator, type OssEmulator } from '../../emulators/oss/oss-emulator';
import { StsRegistry } from '../../emulators/sts-registry';
import { ManualClock } from '../support/manual-clock';
import { Crc64 as TypeScriptCrc64 } from '../../src/crc64';
import { chooseCrc64, Crc64, crc64, crc64Choice, type Crc64Hasher } from '../../src/crc64-choice';
import { LIBLZMA_SONAME, loadLzmaCrc64, nativeCrc64Class } from '../../src/crc64-native';
import { Metrics } from '../../src/metrics';

const CHECK = 11051210869376104954n;

/** liblzma5 is on every Debian system (dpkg needs it): here and in CI the fast path must be the one that runs. */
const NativeCrc64 = nativeCrc64Class(loadLzmaCrc64());

function feedInPieces(hasher: Crc64Hasher, data: Buffer, maxPiece: number): bigint {
  for (let offset = 0; offset < data.length;) {
    const length = Math.floor(Math.random() * (maxPiece + 1));
    hasher.update(data.subarray(offset, offset + length));
    offset += length;
  }
  return hasher.digest();
}

describe('the CRC-64 implementation the service runs', () => {
  it(`is liblzma's lzma_crc64 (${LIBLZMA_SONAME} through koffi) on this Debian machine`, () => {
    expect(crc64Choice.impl).toBe('liblzma');
    expect(crc64Choice.fallbackReason).toBeUndefined();
    expect(Crc64).toBe(crc64Choice.Crc64);
    expect(new Crc64()).not.toBeInstanceOf(TypeScriptCrc64);
  });

  it('gives the catalogue check value for "123456789" in both implementations, as a BigInt and as OSS prints it', () => {
    for (const Impl of [NativeCrc64, TypeScriptCrc64]) {
      const crc = new Impl().update(Buffer.from('123456789'));
      expect(crc.digest()).toBe(CHECK);
      expect(crc.toString()).toBe('11051210869376104954');
    }
    expect(crc64(Buffer.from('123456789'))).toBe(CHECK);
  });

  it('answers a BigInt even when the CRC is below 2^53 (koffi returns those as numbers)', () => {
    // The first decimal string whose CRC fits a double exactly (about one in 2048 does): the digest must still be a bigint.
    const small = Array.from({ length: 50_000 }, (_, i) => Buffer.from(String(i))).find((b) => new TypeScriptCrc64().update(b).digest() < 2n ** 53n);
    expect(small).toBeDefined();
    const digest = new NativeCrc64().update(small as Buffer).digest();
    expect(typeof digest).toBe('bigint');
    expect(digest).toBe(new TypeScriptCrc64().update(small as Buffer).digest());
    const empty = new NativeCrc64().update(new Uint8Array(0)).digest();
    expect(typeof empty).toBe('bigint');
    expect(empty).toBe(0n);
  });

  it('agrees between liblzma and TypeScript on random buffers of every size class, fed whole and in random pieces', () => {
    for (const size of [0, 1, 7, 8, 9, 63, 64, 65, 4095, 65_536, 65_537, 1_000_003]) {
      const data = randomBytes(size);
      const expected = new TypeScriptCrc64().update(data).digest();
      expect([size, new NativeCrc64().update(data).digest()]).toEqual([size, expected]);
      expect([size, feedInPieces(new NativeCrc64(), data, 300)]).toEqual([size, expected]);
      expect([size, feedInPieces(new TypeScriptCrc64(), data, 70_000)]).toEqual([size, expected]);
    }
  });

  it('reads a view at any byte offset of a larger buffer, not the buffer from its start', () => {
    // Socket chunks are views into Node's buffer pool; a binding that ignored byteOffset would hash the wrong bytes.
    const backing = randomBytes(4096);
    for (let offset = 0; offset < 9; offset++) {
      for (const length of [1, 3, 8, 17, 1000, 4096 - 9]) {
        const view = new Uint8Array(backing.buffer, backing.byteOffset + offset, length);
        const slice = backing.subarray(offset, offset + length);
        const expected = new TypeScriptCrc64().update(Buffer.from(slice)).digest();
        expect([offset, length, new NativeCrc64().update(view).digest()]).toEqual([offset, length, expected]);
        expect([offset, length, new NativeCrc64().update(slice).digest()]).toEqual([offset, length, expected]);
      }
    }
  });

  it('keeps a hasher independent of others running at the same time', () => {
    const a = randomBytes(10_000);
    const b = randomBytes(10_000);
    const left = new NativeCrc64();
    const right = new NativeCrc64();
    for (let i = 0; i < 10_000; i += 1000) {
      left.update(a.subarray(i, i + 1000));
      right.update(b.subarray(i, i + 1000));
    }
    expect(left.digest()).toBe(new TypeScriptCrc64().update(a).digest());
    expect(right.digest()).toBe(new TypeScriptCrc64().update(b).digest());
  });
});

describe('against the x-oss-hash-crc64ecma the OSS emulator sends', () => {
  let emulator: OssEmulator;

  beforeAll(async () => {
    const clock = new ManualClock(Date.now());
    emulator = createOssEmulator({ sts: new StsRegistry(clock), clock });
    await emulator.listen();
    emulator.createBucket('crc-bucket', { acl: 'public-read' });
  });

  afterAll(() => emulator.close());

  /** An anonymous GET of a public-read object, path style, read chunk by chunk as a socket delivers it. */
  function fetchHashing(key: string): Promise<{ announced: string; crc: string; bytes: number }> {
    return new Promise((resolve, reject) => {
      http
        .get(`${emulator.endpoint}/crc-bucket/${key}`, (res) => {
          const crc = new Crc64();
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            crc.update(chunk);
            bytes += chunk.length;
          });
          res.on('end', () => resolve({ announced: String(res.headers['x-oss-hash-crc64ecma']), crc: crc.toString(), bytes }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
  }

  it('matches a stored object of random bytes', async () => {
    emulator.putObject('crc-bucket', 'random.bin', randomBytes(300_001));
    const answer = await fetchHashing('random.bin');
    expect(answer.bytes).toBe(300_001);
    expect(answer.crc).toBe(answer.announced);
  });

  it('matches a 9 MiB generated object, whose announced CRC the emulator combined from its blocks without reading them', async () => {
    const info = emulator.putGeneratedObject('crc-bucket', 'generated.bin', 9 * 1024 * 1024 + 13, 7);
    const answer = await fetchHashing('generated.bin');
    expect(answer.announced).toBe(info.crc64.toString());
    expect(answer.crc).toBe(answer.announced);
  });
});

describe('the fallback when liblzma cannot be used', () => {
  it('runs the TypeScript implementation and says why when loading throws', () => {
    const choice = chooseCrc64(() => {
      throw new Error('Failed to load shared library: liblzma.so.5: cannot open shared object file');
    });
    expect(choice.impl).toBe('js');
    expect(choice.Crc64).toBe(TypeScriptCrc64);
    expect(choice.fallbackReason).toMatch(/cannot open shared object file/);
    expect(new choice.Crc64().update(Buffer.from('123456789')).digest()).toBe(CHECK);
  });

  it('falls back when the library named is not on the machine (the real loader, a real failure)', () => {
    expect(() => loadLzmaCrc64('liblzma-not-installed.so.5')).toThrow();
    const choice = chooseCrc64(() => loadLzmaCrc64('liblzma-not-installed.so.5'));
    expect(choice.impl).toBe('js');
    expect(choice.fallbackReason).toBeTruthy();
  });

  it('falls back when a library loads but computes something else than CRC-64/XZ', () => {
    const choice = chooseCrc64(() => () => 42n);
    expect(choice.impl).toBe('js');
    expect(choice.fallbackReason).toBe(`lzma_crc64 gave 42 for "123456789", not ${CHECK}`);
  });

  it('chooses liblzma when the loader works', () => {
    expect(chooseCrc64().impl).toBe('liblzma');
  });
});

describe('crc64_implementation{impl}', () => {
  it('is 1 for the implementation that runs, and has no other series', async () => {
    const text = await new Metrics().registry.getSingleMetricAsString('crc64_implementation');
    const series = text.split('\n').filter((line) => line.startsWith('crc64_implementation{'));
    expect(series).toEqual([`crc64_implementation{impl="${crc64Choice.impl}"} 1`]);
  });
});
