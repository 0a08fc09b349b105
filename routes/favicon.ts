import { Router } from 'express';

/**
 * GET /favicon.ico: a small folder icon for the HTML index. Browsers ask for
 * it on their own and never send Basic credentials outside the /v1/objects/
 * space they were prompted in, so it needs no token (createApp mounts it
 * before authentication): otherwise every page would leave a 401 in the
 * console. SVG, which every current browser takes under this name.
 */
const ICON = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
    '<path fill="#c98a04" d="M2 7a2 2 0 0 1 2-2h8l3 3h13a2 2 0 0 1 2 2v15a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2z"/>' +
    '<path fill="#e3a008" d="M2 12h28v13a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2z"/></svg>',
);

export function faviconRoutes(): Router {
  const router = Router();
  router.get('/favicon.ico', (_req, res) => {
    res.setHeader('Content-Type', 'image/svg+xml');
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.setHeader('Content-Length', String(ICON.length));
    res.end(ICON);
  });
  return router;
}
