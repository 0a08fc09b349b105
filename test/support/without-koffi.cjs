/**
 * Preload (`node --require`) that makes `require('koffi')` throw, as on a
 * platform koffi ships no binary for: the service must then run the
 * TypeScript CRC-64 (src/crc64-choice.ts). Used by the fallback test and by
 * `npm run bench:crc64` to measure the fallback through the whole stack.
 */
const Module = require('node:module');

const load = Module._load;
Module._load = function loadWithoutKoffi(request, ...rest) {
  if (request === 'koffi') throw new Error('koffi is blocked in this process (test/support/without-koffi.cjs)');
  return load.call(this, request, ...rest);
};
