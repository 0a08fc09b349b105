import { formatBytes, formatDuration, ProgressBar } from '../../../src/cli/progress-bar';

describe('ProgressBar', () => {
  it('shows percent, bytes, rate and ETA from an injected clock', () => {
    let now = 0;
    const written: string[] = [];
    const bar = new ProgressBar({ write: (t: string) => written.push(t), columns: 100 }, 'model.bin', () => now);
    bar.start(100 * 1024 * 1024, 0);
    bar.add(25 * 1024 * 1024);
    now = 1000;
    const line = bar.line();
    bar.stop('done');
    expect(line).toContain('25.0%');
    expect(line).toContain('25.0 MiB/100.0 MiB');
    expect(line).toContain('25.0 MiB/s');
    expect(line).toContain('ETA 0:03');
    expect(written.at(-1)).toContain('done\n');
  });

  it('counts resumed bytes as done but not towards the rate', () => {
    let now = 0;
    const bar = new ProgressBar({ write: () => true }, 'f', () => now);
    bar.start(1000, 500);
    now = 1000;
    bar.add(100);
    expect(bar.line()).toContain('60.0%');
    expect(bar.line()).toContain('100 B/s');
    bar.stop();
  });
});

describe('formatting', () => {
  it('formats sizes in binary units and durations as m:ss or h:mm:ss', () => {
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(Number.NaN)).toBe('--:--');
  });
});
