/**
 * The layer rules (docs/design.md, "Layering rules"), one rule per line of that list, checked by
 * `npm run lint` (and so by `npm test`). A rule broken here fails the build; to change a rule,
 * change it here and in docs/design.md together.
 */
const DOMAIN = '^src/(downloads|oss|credentials|auth)/';
const COMPOSITION_ROOT = '^src/compose[.]ts$';

/** A rule that only the service's files matching `allowed` import the npm package `pkg`. */
function onlyImportedFrom(name, comment, allowed, pkg) {
  return {
    name,
    comment,
    severity: 'error',
    from: { path: '^(src|routes)/', pathNot: allowed },
    to: { path: `^node_modules/${pkg}/` },
  };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Zero import cycles, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'routes-only-from-composition-root',
      comment: 'Only the composition root (src/compose.ts) imports routes/: it builds the routers and hands them to createApp.',
      severity: 'error',
      from: { path: '^src/', pathNot: COMPOSITION_ROOT },
      to: { path: '^routes/' },
    },
    {
      name: 'routes-use-domain-modules',
      comment: 'routes/ use src/ domain modules and transport helpers, never the wiring (compose, app, server) nor the CLI.',
      severity: 'error',
      from: { path: '^routes/' },
      to: { path: '^src/(compose|app|server)[.]ts$|^src/cli/' },
    },
    {
      name: 'http-is-transport-only',
      comment:
        'src/http/ is transport (parsing, headers, problem+json, streaming, guards): it never imports routes/, the wiring, the CLI or the download jobs.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^routes/|^src/(compose|app|server)[.]ts$|^src/cli/|^src/downloads/' },
    },
    {
      name: 'domain-never-imports-transport',
      comment:
        'downloads, oss, credentials, auth and the shutdown state machine throw AppErrors; src/http/ maps them to HTTP. They never import src/http/, routes/ or the wiring.',
      severity: 'error',
      from: { path: `${DOMAIN}|^src/lifecycle[.]ts$` },
      to: { path: '^src/http/|^routes/|^src/(compose|app|server)[.]ts$|^src/cli/' },
    },
    onlyImportedFrom(
      'metrics-live-in-observability',
      'Every prom-client metric is declared in src/metrics.ts or src/observability/: only they import prom-client.',
      '^src/metrics[.]ts$|^src/observability/',
      'prom-client',
    ),
    onlyImportedFrom(
      'ali-oss-only-in-oss',
      'Only src/oss/ imports ali-oss (STYLE.md 3): everything else sees ObjectStore and ObjectUrlSigner.',
      '^src/oss/',
      'ali-oss',
    ),
    onlyImportedFrom(
      'oss-transport-only-in-oss',
      'Only src/oss/ sends to OSS (undici) and reads its answers (fast-xml-parser, mime for the signed Content-Type).',
      '^src/oss/',
      '(undici|fast-xml-parser|mime)',
    ),
    onlyImportedFrom(
      'alicloud-credentials-only-in-credentials',
      'Only src/credentials/ imports @alicloud/credentials (STYLE.md 3).',
      '^src/credentials/',
      '@alicloud/credentials',
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies too: a cycle through `import type` is still two files that need each other.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
  },
};
