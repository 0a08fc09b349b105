// Preloaded into the command line by the benchmark: prints the peak RSS (KiB) on exit.
process.on('exit', () => {
  require('node:fs').writeSync(2, `\nmax-rss-kib=${process.resourceUsage().maxRSS}\n`);
});
