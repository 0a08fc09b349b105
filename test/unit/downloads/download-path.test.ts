import { downloadPathProblem, MAX_FILE_NAME_BYTES, sideFilesOf } from '../../../src/downloads/download-path';

describe('downloadPathProblem', () => {
  it.each(['a', 'models/v1/weights.bin', 'dir/.hidden', 'a..b/c', '日本/データ.csv'])('accepts %j', (p) => {
    expect(downloadPathProblem(p)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['..', 'a parent step'],
    ['a/../../b', 'a parent step inside'],
    ['models/./w.bin', 'a . segment (two strings for one file)'],
    ['a//b', 'an empty segment'],
    ['a/', 'no file name'],
    ['/etc/passwd', 'absolute'],
    ['C:/x', 'a drive letter'],
    ['a\\..\\b', 'a backslash'],
    ['a\u0000b', 'NUL'],
    ['a/\u001bb', 'a control character'],
    ['model\ud800.bin', 'a lone high surrogate'],
    ['model\udfff.bin', 'a lone low surrogate (the same UTF-8 bytes as the one above)'],
    ['x'.repeat(256) + '/f', 'a folder over 255 bytes'],
    ['é'.repeat(116), 'a file name too long for the hidden names beside it (UTF-8 bytes)'],
    ['a/'.repeat(600) + 'f', 'a path over 1024 bytes'],
    ['a/'.repeat(32) + 'f', 'more than 32 segments'],
    ['a/.b.oss-download', 'a temporary file name'],
    ['a/.b.oss-download.json', 'a checkpoint name'],
    ['a/.b.oss-download.json.next', "a checkpoint's side file name"],
  ])('refuses %j (%s)', (p) => {
    expect(downloadPathProblem(p)).toEqual(expect.any(String));
  });

  it('allows exactly the file names whose longest side file fits in 255 bytes', () => {
    for (let length = 225; length <= 260; length += 1) {
      const name = 'n'.repeat(length);
      const fits = Buffer.byteLength(sideFilesOf(name).checkpointNext) <= 255;
      expect([length, downloadPathProblem(`dir/${name}`) === undefined]).toEqual([length, fits]);
    }
    expect(MAX_FILE_NAME_BYTES).toBe(231);
  });
});

describe('sideFilesOf', () => {
  it('puts the hidden temporary file, checkpoint and its side file beside the target', () => {
    expect(sideFilesOf('model.bin')).toEqual({
      temp: '.model.bin.oss-download',
      checkpoint: '.model.bin.oss-download.json',
      checkpointNext: '.model.bin.oss-download.json.next',
    });
  });
});
