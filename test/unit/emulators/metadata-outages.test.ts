import { once } from 'node:events';
import { ManualClock } from '../../support/manual-clock';
import { StsRegistry } from '../../../emulators/sts-registry';
import { createMetadataEmulator, type MetadataEmulator } from '../../../emulators/metadata/metadata-emulator';
import { httpRequest, type HttpAnswer } from '../../support/http-request';

const CREDENTIAL_PATH = '/latest/meta-data/ram/security-credentials/oss-download-role';

describe('metadata emulator: outages and slowness', () => {
  let emulator: MetadataEmulator;

  beforeEach(async () => {
    const clock = new ManualClock();
    emulator = createMetadataEmulator({ sts: new StsRegistry(clock), clock, hardenedOnly: false });
    await emulator.listen();
  });

  afterEach(() => emulator.close());

  // Node's http client, as @alicloud/credentials uses (through httpx). Node 20's fetch (undici
  // 6.24) was seen to wait forever on a connection the server destroys as it accepts it.
  /** How Node's client reports a connection destroyed before an answer; not the helper's own timeout. */
  const REFUSED = /socket hang up|ECONNRESET/;
  const readCredential = (): Promise<HttpAnswer> => httpRequest(emulator.url(CREDENTIAL_PATH), { timeoutMs: 4_000 });

  describe("setOutage('refuse')", () => {
    it('drops every connection before a request is read', async () => {
      emulator.setOutage('refuse');

      await expect(readCredential()).rejects.toThrow(REFUSED);
      expect(emulator.calls.credentials).toBe(0);
      expect(emulator.requests).toHaveLength(0);
    });

    it('also cuts a keep-alive connection opened before the outage', async () => {
      expect((await readCredential()).status).toBe(200);

      emulator.setOutage('refuse');

      await expect(readCredential()).rejects.toThrow(REFUSED);
    });

    it('serves again once the outage is cleared', async () => {
      emulator.setOutage('refuse');
      await expect(readCredential()).rejects.toThrow(REFUSED);

      emulator.setOutage('none');

      expect((await readCredential()).status).toBe(200);
    });
  });

  describe("setOutage('http-500')", () => {
    it('answers 500 and still counts the request', async () => {
      emulator.setOutage('http-500');

      const response = await readCredential();

      expect(response.status).toBe(500);
      expect(emulator.calls.credentials).toBe(1);
      expect(emulator.requests).toEqual([{ method: 'GET', path: CREDENTIAL_PATH, hadToken: false, status: 500 }]);
    });
  });

  describe("setOutage('hang')", () => {
    it('holds a request unanswered until the outage is cleared, then answers it', async () => {
      emulator.setOutage('hang');
      const held = once(emulator.events, 'held');
      let settled = false;
      const pending = readCredential().finally(() => {
        settled = true;
      });

      await held;
      expect(settled).toBe(false);
      expect(emulator.calls.credentials).toBe(1);
      emulator.setOutage('none');

      expect((await pending).status).toBe(200);
    });

    it('answers a held request with the outage that replaced the hang', async () => {
      emulator.setOutage('hang');
      const held = once(emulator.events, 'held');
      const pending = readCredential();
      await held;

      emulator.setOutage('http-500');

      expect((await pending).status).toBe(500);
    });

    it('ends a held request by destroying its socket on close()', async () => {
      emulator.setOutage('hang');
      const held = once(emulator.events, 'held');
      const pending = readCredential();
      await held;

      await emulator.close();

      await expect(pending).rejects.toThrow();
      expect(emulator.requests).toHaveLength(0);
    });
  });

  describe('setLatency', () => {
    it('answers no sooner than the latency', async () => {
      emulator.setLatency(40);
      const started = performance.now();

      const response = await readCredential();

      expect(response.status).toBe(200);
      // A lower bound only; timer granularity can shave a millisecond or two.
      expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    });

    it('rejects a negative latency', () => {
      expect(() => emulator.setLatency(-1)).toThrow(RangeError);
    });
  });
});
