import { ApiResponseError, type TwitterApi } from 'twitter-api-v2';
import { err, ok, type Result } from '../contract/result.js';

export interface XUsage {
  readonly projectUsage: number;
  readonly projectCap: number | undefined;
  readonly capResetDay: number | undefined;
}

interface UsageBody {
  data?: { project_usage?: string | number; project_cap?: string | number; cap_reset_day?: number };
}

/** GET /2/usage/tweets (X sends the counts as strings). Errors come back as a reason, never thrown. */
export async function fetchUsage(client: TwitterApi): Promise<Result<XUsage, string>> {
  let body: UsageBody;
  try {
    body = await client.v2.get<UsageBody>('usage/tweets');
  } catch (e) {
    if (e instanceof ApiResponseError) return err(`HTTP ${e.code}${(e.data as { title?: string })?.title ? ` ${(e.data as { title?: string }).title}` : ''}`);
    return err((e as Error).message);
  }
  const usage = Number(body.data?.project_usage);
  if (!Number.isFinite(usage) || usage < 0) return err(`unexpected usage body: ${JSON.stringify(body).slice(0, 200)}`);
  const cap = Number(body.data?.project_cap);
  return ok({ projectUsage: usage, projectCap: Number.isFinite(cap) && cap > 0 ? cap : undefined, capResetDay: body.data?.cap_reset_day });
}
