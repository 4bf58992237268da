/**
 * The browser console: GET / (index.html), /app.js and /style.css from `<root>/web`, with a
 * strict Content-Security-Policy (only this origin's script and style; no inline code), no
 * framing, and exact content types. The page talks to /api with the HttpOnly session cookie.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { notFound } from './problem.js';

/** `<root>/web`: src/console/ui.ts and dist/console/ui.js both sit two levels below the package root. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export function uiRoutes(app: FastifyInstance, webDir: string = DEFAULT_WEB_DIR): void {
  for (const [url, asset] of Object.entries(ASSETS)) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => {
      let body: Buffer;
      try {
        body = await readFile(join(webDir, asset.file));
      } catch {
        throw notFound('console_ui_missing', `the web console file ${asset.file} is not installed`);
      }
      return reply
        .header('content-type', asset.type)
        .header('content-security-policy', CONSOLE_CSP)
        .header('x-frame-options', 'DENY')
        .header('referrer-policy', 'no-referrer')
        .header('cross-origin-opener-policy', 'same-origin')
        .header('cache-control', 'no-cache')
        .send(body);
    });
  }
}
