import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('./static/', import.meta.url));

/**
 * The page's files: a fixed list (no path from the request ever reaches the file system). A Map,
 * not an object literal: a plain object would also "hold" constructor, __proto__, toString, ...
 */
const FILES: ReadonlyMap<string, string> = new Map([
  ['index.html', 'text/html; charset=utf-8'],
  ['dashboard.js', 'text/javascript; charset=utf-8'],
  ['charts.js', 'text/javascript; charset=utf-8'],
  ['dashboard.css', 'text/css; charset=utf-8'],
]);

const cache = new Map<string, Buffer>();

export async function staticFile(name: string): Promise<{ body: Buffer; contentType: string } | undefined> {
  const contentType = FILES.get(name);
  if (contentType === undefined) return undefined;
  let body = cache.get(name);
  if (!body) {
    body = await readFile(DIR + name);
    cache.set(name, body);
  }
  return { body, contentType };
}
