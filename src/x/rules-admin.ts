import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TwitterApi } from 'twitter-api-v2';
import { err, type Result } from '../contract/result.js';
import type { RouteHandler } from '../telemetry/http-server.js';
import { hasBearer, readTokenSetting } from '../telemetry/http-access.js';
import { CredentialError } from './credentials.js';
import { logger } from '../telemetry/log.js';
import { addRules, deleteRules, desiredRuleSchema, listRules, syncRules, validateRulesDocument, type AlreadyLive, type RulesError } from './rules.js';

const log = logger('x.rules-admin');
export const RULES_ADMIN_PATH = '/admin/x/rules';
const MAX_BODY = 256 * 1024;

/**
 * The admin token, from CROWDPULSE_X_ADMIN_TOKEN or the file x.adminTokenFile. Undefined = the endpoint is off.
 */
export function readAdminToken(env: NodeJS.ProcessEnv, file: string): Result<string | undefined, CredentialError> {
  const token = readTokenSetting(env, 'CROWDPULSE_X_ADMIN_TOKEN', file, 'admin token file');
  return token.ok ? token : err(new CredentialError(token.error));
}

/**
 * Run-time rule changes over HTTP, mounted on a role's telemetry port, bearer-token protected:
 *   GET    /admin/x/rules                     → {rules: [{id, value, tag}]}
 *   POST   /admin/x/rules {add: [{value,tag}]} → validated with dry_run, then added (201 {added, alreadyLive};
 *                                              a value X already has is kept, never a refusal; 422 {error, refused, alreadyLive})
 *   POST   /admin/x/rules {delete: [ids]}      → deleted (never every rule)
 *   PUT    /admin/x/rules {rules: [{value,tag}]} → synced by diff (the rules file's format)
 * Returns undefined (no route) when no token is configured.
 */
export function rulesAdminRoute(client: TwitterApi, token: string | undefined): RouteHandler | undefined {
  if (token === undefined) return undefined;
  const expected = Buffer.from(token);
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== RULES_ADMIN_PATH) return false;
    if (!hasBearer(req, expected)) {
      reply(res, 401, { error: 'unauthorized: send Authorization: Bearer <admin token>' });
      return true;
    }
    try {
      await handle(client, req, res);
    } catch (e) {
      log.error('rules admin request failed', { error: (e as Error).message });
      reply(res, 502, { error: `X API call failed: ${(e as Error).message}` });
    }
    return true;
  };
}

async function handle(client: TwitterApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET') return reply(res, 200, { rules: await listRules(client) });
  if (req.method !== 'POST' && req.method !== 'PUT') return reply(res, 405, { error: 'use GET, POST or PUT' });
  const body = await readBody(req);
  if (!body.ok) return reply(res, 400, { error: body.error });
  if (req.method === 'PUT') {
    const desired = validateRulesDocument(body.value, 'request body');
    if (!desired.ok) return reply(res, 400, { error: desired.error.message });
    const synced = await syncRules(client, desired.value);
    if (!synced.ok) return reply(res, 422, refusalBody(synced.error));
    log.info('rules synced over the admin endpoint', {
      added: synced.value.diff.add.length,
      removed: synced.value.diff.remove.length,
      kept: synced.value.diff.keep.length,
    });
    return reply(res, 200, {
      added: synced.value.diff.add,
      removed: synced.value.diff.remove,
      kept: synced.value.diff.keep,
      alreadyLive: synced.value.alreadyLive.map(alreadyLiveBody),
    });
  }
  const { add, delete: del } = (body.value ?? {}) as { add?: unknown; delete?: unknown };
  if (add !== undefined) {
    const parsed = desiredRuleSchema.array().min(1).safeParse(add);
    if (!parsed.success) return reply(res, 400, { error: `add: ${parsed.error.issues[0]?.message ?? 'invalid'} (expected [{value, tag}])` });
    const added = await addRules(client, parsed.data);
    if (!added.ok) return reply(res, 422, refusalBody(added.error));
    // A value X already has is kept as it is (reported in alreadyLive), never a refusal.
    return reply(res, added.value.created.length > 0 ? 201 : 200, { added: added.value.created, alreadyLive: added.value.alreadyLive.map(alreadyLiveBody) });
  }
  if (Array.isArray(del) && del.length > 0 && del.every((x) => typeof x === 'string')) {
    const deleted = await deleteRules(client, del);
    return deleted.ok ? reply(res, 200, { deleted: deleted.value }) : reply(res, 422, refusalBody(deleted.error));
  }
  return reply(res, 400, { error: 'expected {add: [{value, tag}]} or {delete: [rule ids]}' });
}

/** {value, tag (asked for), live: {id, value, tag}} */
function alreadyLiveBody(a: AlreadyLive): Record<string, unknown> {
  return { value: a.value, ...(a.requestedTag !== undefined ? { tag: a.requestedTag } : {}), live: a.live };
}

/** A refused change: the one-line message, X's errors for the refused rules only, and the rules that were already live. */
function refusalBody(e: RulesError): Record<string, unknown> {
  return {
    error: e.message,
    ...(e.refused.length > 0 ? { refused: e.refused } : {}),
    ...(e.alreadyLive.length > 0 ? { alreadyLive: e.alreadyLive.map(alreadyLiveBody) } : {}),
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return { ok: false, error: `body over ${MAX_BODY} bytes` };
    chunks.push(c as Buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch (e) {
    return { ok: false, error: `body is not JSON: ${(e as Error).message}` };
  }
}
