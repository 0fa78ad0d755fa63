import { Command } from 'commander';
import { loadRecordedPosts } from '../emulator/recorded-posts.js';
import type { Timestamps } from '../emulator/serve-post.js';
import { parseFault, XEmulator } from '../emulator/server.js';
import { CrowdpulseError } from '../errors.js';
import { CredentialError, readBearerToken } from '../x/credentials.js';
import { loadRulesFile } from '../x/rules.js';
import { shutdownSignal } from './x-support.js';
import { configFrom } from './config-options.js';

const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new CrowdpulseError('CP_USAGE', `not a non-negative number: ${v}`);
  return n;
};

/** `--fault drop@30` → inject a drop every 30 s; repeatable. Kinds: drop, stall, drip, malformed, error. */
function parseFaultSchedule(spec: string, acc: { kind: string; everyS: number }[]): { kind: string; everyS: number }[] {
  const m = /^(drop|stall|drip|malformed|error)@(\d+(?:\.\d+)?)$/.exec(spec);
  if (!m) throw new CrowdpulseError('CP_USAGE', `--fault ${spec}: expected KIND@SECONDS with KIND one of drop, stall, drip, malformed, error`);
  return [...acc, { kind: m[1]!, everyS: Number(m[2]) }];
}

function parseTimestamps(v: string): Timestamps {
  if (v !== 'recorded' && v !== 'published') throw new CrowdpulseError('CP_USAGE', `--timestamps ${v}: expected recorded or published`);
  return v;
}

export function emulateCommand(): Command {
  const command = new Command('emulate')
    .description(
      "run an X API v2 emulator (filtered stream, rules, usage) serving recorded posts; the bearer token it accepts is read like the client's (CROWDPULSE_X_BEARER_TOKEN / X_BEARER_TOKEN / x.bearerTokenFile)",
    )
    .requiredOption('--posts <file>', 'recorded stream messages (ndjson or ndjson.gz of {data, includes?, matching_rules?})')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port (0 = any free port; the URL is printed)', num, 0)
    .option(
      '--rate <postsPerSecond>',
      'posts published per second (of those matching the stream rules, from the first stream connection on, connected or not; of all posts in the history)',
      num,
      50,
    )
    .option('--keepalive-ms <ms>', 'milliseconds between keep-alive \\r\\n', num, 20_000)
    .option('--no-loop', 'stop serving at the end of the recording instead of starting over')
    .option('--cap <posts>', 'monthly usage cap (UsageCapExceeded beyond it)', num, 10_000)
    .option('--cap-reset-day <day>', 'day of month the usage cap resets', num, 1)
    .option('--max-connections <n>', 'concurrent stream connections before TooManyConnections', num, 1)
    .option('--max-rules <n>', 'rules the stream may hold', num, 1000)
    .option('--max-rule-length <n>', 'characters per rule (Basic 512, Pro 1024)', num, 512)
    .option('--rules <file>', 'start with these rules (the rules.yaml format)')
    .option('--fault <KIND@SECONDS>', 'inject a fault every SECONDS (repeatable): drop | stall | drip | malformed | error', parseFaultSchedule, [])
    .option('--gzip', 'compress the stream when the client accepts gzip (as X does)')
    .option('--limit <posts>', 'load at most this many posts (0 = all)', num, 0)
    .option(
      '--timestamps <mode>',
      'recorded: serve recorded ids and created_at; published: created_at = publication time, id = its snowflake (stream and search)',
      parseTimestamps,
      'recorded' as Timestamps,
    )
    .option(
      '--history <seconds>',
      'start with this many seconds of history for search/counts: every post of the recording published at --rate before start (rules are not known then)',
      num,
      0,
    )
    .option('--max-backlog <posts>', 'published posts a slow stream reader may fall behind before X-style disconnect (0 = no bound)', num, 10_000)
    .option('--search-end-lag-ms <ms>', 'how long before the request search/counts end_time must be (X: 10 s)', num, 10_000);
  command.action(
    async (opts: {
      posts: string;
      host: string;
      port: number;
      rate: number;
      keepaliveMs: number;
      loop: boolean;
      cap: number;
      capResetDay: number;
      maxConnections: number;
      maxRules: number;
      maxRuleLength: number;
      rules?: string;
      fault: { kind: string; everyS: number }[];
      limit: number;
      gzip?: boolean;
      timestamps: Timestamps;
      history: number;
      maxBacklog: number;
      searchEndLagMs: number;
    }) => {
      const config = configFrom(command, []);
      const token = readBearerToken(process.env, config.x.bearerTokenFile);
      if (!token.ok) throw new CredentialError(`${token.error.message} (the emulator accepts only that token)`);
      const rules = opts.rules ? loadRulesFile(opts.rules) : undefined;
      if (rules && !rules.ok) throw rules.error;
      let loaded;
      try {
        loaded = await loadRecordedPosts(opts.posts, opts.limit);
      } catch (e) {
        throw new CrowdpulseError('CP_SOURCE_PATH', `cannot read posts from ${opts.posts}: ${(e as Error).message}`, { cause: e });
      }
      if (loaded.posts.length === 0) throw new CrowdpulseError('CP_SOURCE_PATH', `no stream messages in ${opts.posts}`);
      const emu = await XEmulator.start(
        {
          posts: loaded.posts,
          bearerToken: token.value,
          rate: opts.rate,
          keepAliveMs: opts.keepaliveMs,
          loop: opts.loop,
          usageCap: opts.cap,
          capResetDay: opts.capResetDay,
          gzip: opts.gzip === true,
          maxConnections: opts.maxConnections,
          maxRules: opts.maxRules,
          maxRuleLength: opts.maxRuleLength,
          timestamps: opts.timestamps,
          historySeconds: opts.history,
          maxBacklog: opts.maxBacklog,
          searchEndLagMs: opts.searchEndLagMs,
          ...(rules?.ok ? { initialRules: rules.value } : {}),
        },
        opts.host,
        opts.port,
      );
      const timers = opts.fault.map((f) => setInterval(() => emu.inject(parseFault({ kind: f.kind, ms: 60_000 })!), f.everyS * 1000));
      process.stdout.write(
        `X API emulator on ${emu.url} (${loaded.posts.length} posts${loaded.skipped ? `, ${loaded.skipped} unusable lines skipped` : ''}${emu.history.count ? `, ${emu.history.count} published in the ${opts.history} s before start` : ''}); admin: GET ${emu.url}/_emulator/state, POST ${emu.url}/_emulator/faults\n`,
      );
      const signal = shutdownSignal();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      for (const t of timers) clearInterval(t);
      await emu.close();
    },
  );
  return command;
}
