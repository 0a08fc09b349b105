import { checkRelativePath, filesFor, isInside } from '../../../src/downloads/target-path';

describe('checkRelativePath', () => {
  it('splits a plain relative path into its components', () => {
    expect(checkRelativePath('models/v1/./weights.bin')).toEqual(['models', 'v1', 'weights.bin']);
  });

  it.each([
    ['', 'empty'],
    ['..', 'a parent step'],
    ['a/../../b', 'a parent step inside'],
    ['/etc/passwd', 'absolute'],
    ['a\\..\\b', 'a backslash'],
    ['a\u0000b', 'NUL'],
    ['a/\u001bb', 'a control character'],
    ['x'.repeat(256), 'a component over 255 bytes'],
    ['é'.repeat(120), 'a file name too long for the temporary names beside it (UTF-8 bytes)'],
    ['a/'.repeat(2049), 'a path over 4096 bytes'],
    ['./', 'no file'],
    ['a/.b.oss-download', 'a temporary file name'],
  ])('refuses %j (%s)', (relative) => {
    expect(() => checkRelativePath(relative)).toThrow(expect.objectContaining({ code: 'InvalidRequest' }));
  });
});

describe('filesFor', () => {
  it('puts the hidden temporary file and checkpoint beside the target', () => {
    expect(filesFor('/root/a/model.bin')).toEqual({
      target: '/root/a/model.bin',
      temp: '/root/a/.model.bin.oss-download',
      checkpoint: '/root/a/.model.bin.oss-download.json',
    });
  });
});

describe('isInside', () => {
  it('is true strictly below the root only', () => {
    expect(isInside('/r', '/r/a')).toBe(true);
    expect(isInside('/r', '/r')).toBe(false);
    expect(isInside('/r', '/rx/a')).toBe(false);
    expect(isInside('/r', '/')).toBe(false);
  });
});
