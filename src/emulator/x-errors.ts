/**
 * Error bodies as X API v2 sends them (shapes checked against public reports of real responses:
 * TooManyConnections and UsageCapExceeded verbatim; rule errors follow X's problem format).
 */
const PROBLEMS = 'https://api.twitter.com/2/problems';

export interface XErrorResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export const unauthorized = (): XErrorResponse => ({
  status: 401,
  body: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
});

export const tooManyRequests = (): XErrorResponse => ({
  status: 429,
  body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
});

export const tooManyConnections = (): XErrorResponse => ({
  status: 429,
  body: {
    title: 'ConnectionException',
    detail: 'This stream is currently at the maximum allowed connection limit.',
    connection_issue: 'TooManyConnections',
    type: `${PROBLEMS}/streaming-connection`,
  },
});

export const usageCapExceeded = (): XErrorResponse => ({
  status: 429,
  body: {
    account_id: '0',
    product_name: 'emulator',
    title: 'UsageCapExceeded',
    period: 'Monthly',
    scope: 'Product',
    detail: 'Usage cap exceeded: Monthly product cap',
    type: `${PROBLEMS}/usage-capped`,
  },
});

export const invalidRequest = (message: string, parameters: Record<string, unknown> = {}): XErrorResponse => ({
  status: 400,
  body: {
    errors: [{ parameters, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: `${PROBLEMS}/invalid-request`,
  },
});

export const notFound = (path: string): XErrorResponse => ({
  status: 404,
  body: {
    errors: [{ message: `Sorry, that page does not exist: ${path}` }],
    title: 'Not Found Error',
    detail: 'Sorry, that page does not exist.',
    type: `${PROBLEMS}/resource-not-found`,
  },
});

export const invalidRuleError = (value: string, detail: string): Record<string, unknown> => ({
  value,
  details: [detail],
  title: 'UnprocessableEntity',
  type: `${PROBLEMS}/invalid-rules`,
});

export const duplicateRuleError = (value: string, id: string): Record<string, unknown> => ({
  value,
  id,
  title: 'DuplicateRule',
  type: `${PROBLEMS}/duplicate-rules`,
});

export const ruleCapError = (max: number): Record<string, unknown> => ({
  title: 'RulesCapExceeded',
  detail: `Rule creation would exceed the maximum of ${max} rules for this stream`,
  type: `${PROBLEMS}/rule-cap`,
});

export const ruleNotFoundError = (id: string): Record<string, unknown> => ({
  value: id,
  details: ['Rule does not exist'],
  title: 'Invalid Request',
  type: `${PROBLEMS}/invalid-request`,
});

/** The in-stream error payload X sends before an operational disconnect. */
export const operationalDisconnect = (): Record<string, unknown> => ({
  errors: [
    {
      title: 'operational-disconnect',
      disconnect_type: 'UpstreamOperationalDisconnect',
      detail: 'This stream has been disconnected upstream for operational reasons.',
      type: `${PROBLEMS}/operational-disconnect`,
    },
  ],
});

export const serverError = (status: number): XErrorResponse => ({
  status,
  body:
    status === 503
      ? { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status }
      : { title: 'Internal Server Error', detail: 'Internal Server Error', type: 'about:blank', status },
});
