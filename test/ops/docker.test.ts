import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configKeys, loadConfig } from '../../src/config/load.js';
import { startTelemetryServer } from '../../src/telemetry/http-server.js';
import { ROOT } from '../helpers.js';
import { dockerIgnored, parseDockerfile, type Stage } from './dockerfile.js';
import { freePort, haveFastModel, need } from './support.js';

const execFileAsync = promisify(execFile);
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
const ciRun = readFileSync(join(ROOT, '.ci/run'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; allowScripts: Record<string, boolean> };
const build = dockerfile.stages[0]!;
const runtime = dockerfile.stages.at(-1)!;
const all = (stage: Stage, keyword: string): string[] => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

test('Dockerfile: multi-stage on one supported Node LTS; native modules installed in the build stage with the command CI runs', () => {
  assert.ok(dockerfile.stages.length >= 2, 'a build stage and a runtime stage');
  const major = /^node:(\d+)-bookworm-slim$/.exec(runtime.from)?.[1];
  assert.ok(major === '22' || major === '24', `runtime on Node 22 or 24 LTS (slim), got ${runtime.from}`);
  assert.equal(build.from, runtime.from, 'native modules are built for the Node the runtime runs (same ABI)');
  const runs = all(build, 'RUN');
  const install = runs.find((r) => /^npm ci\b/.test(r));
  assert.ok(install, 'the build stage runs npm ci');
  assert.ok(
    ciRun.split('\n').some((l) => l.trim() === install),
    `CI (.ci/run) runs the same "${install}"`,
  );
  assert.equal(
    all(runtime, 'RUN').some((r) => /npm (ci|install)/.test(r)),
    false,
    'nothing is compiled in the runtime stage',
  );
  assert.ok(
    all(runtime, 'COPY').some((c) => c.startsWith('--from=build /app')),
    'the runtime takes the built tree from the build stage',
  );
  // onnxruntime-node's postinstall (GPU downloads) stays denied: npm 11 (Node 24) honours allowScripts.
  assert.equal(pkg.allowScripts['onnxruntime-node'], false);
  assert.ok(
    Number(major) >= 24 || all(build, 'ENV').some((e) => e.includes('ONNXRUNTIME_NODE_INSTALL=skip')),
    'npm 10 (Node 22) ignores allowScripts: then ONNXRUNTIME_NODE_INSTALL=skip',
  );
});

test('Dockerfile: what the roles load at run time is copied and not excluded by .dockerignore', (t) => {
  const copies = all(build, 'COPY')
    .map((c) => c.split(' ').slice(0, -1))
    .flat()
    .filter((s) => !s.startsWith('--'));
  for (const source of copies) assert.ok(existsSync(join(ROOT, source)), `COPY source ${source} exists`);
  const needed = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    pkg.bin.crowdpulse!,
    'src/cli.ts',
    'workers/sentiment.worker.ts',
    'bench/fixtures/posts.ndjson.gz',
  ];
  for (const path of needed) {
    assert.ok(existsSync(join(ROOT, path)), `${path} exists`);
    assert.equal(dockerIgnored(ignore, path), false, `${path} reaches the build context`);
    assert.ok(
      copies.some((c) => path === c || path.startsWith(c.replace(/\/?$/, '/')) || (c.endsWith('/') && path.startsWith(c))),
      `${path} is copied`,
    );
  }
  for (const path of ['node_modules/x', '.git/HEAD', 'models/.venv/bin/python', 'models/training/train_fast.py', 'test/ops/k8s.test.ts', 'bench/micro/x.ts']) {
    assert.equal(dockerIgnored(ignore, path), true, `${path} stays out of the build context`);
  }
  assert.ok(copies.includes('models/'), 'the models are inside the image');
  assert.ok(
    all(build, 'RUN').some((r) => r.includes('test -f models/fast/model.json')),
    'the build fails without the default model',
  );
  if (!need(t, haveFastModel(), 'models/fast/model.json', 'train the fast model (models/training/train_fast.py)')) return;
  assert.equal(dockerIgnored(ignore, 'models/fast/model.json'), false, 'the fast model reaches the build context');
});

test('Dockerfile: non-root, ENTRYPOINT crowdpulse with the role as argument, settings crowdpulse reads', () => {
  const user = all(runtime, 'USER').at(-1) ?? '';
  assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, 'a numeric non-root USER (Kubernetes runAsNonRoot can verify it)');
  assert.deepEqual(JSON.parse(all(runtime, 'ENTRYPOINT').at(-1) ?? '[]'), ['crowdpulse']);
  assert.deepEqual(JSON.parse(all(runtime, 'CMD').at(-1) ?? '[]'), ['run']);
  const link = all(runtime, 'RUN').find((r) => r.includes('/usr/local/bin/crowdpulse'));
  assert.ok(link?.includes(`/app/${pkg.bin.crowdpulse}`), 'crowdpulse on PATH is the package bin');
  assert.match(readFileSync(join(ROOT, pkg.bin.crowdpulse!), 'utf8').split('\n')[0]!, /^#!\/usr\/bin\/env node$/);
  const env: Record<string, string> = {};
  for (const e of all(runtime, 'ENV')) for (const m of e.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!;
  const known = new Set(configKeys().map((k) => k.env));
  assert.deepEqual(
    Object.keys(env).filter((k) => k.startsWith('CROWDPULSE_') && !known.has(k)),
    [],
  );
  const loaded = loadConfig({ env });
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.message);
  assert.equal(loaded.value.http.host, '0.0.0.0');
  assert.deepEqual(all(runtime, 'EXPOSE'), [String(loaded.value.http.port)]);
});

test('Dockerfile: the HEALTHCHECK command passes against a live /healthz and fails without one', async () => {
  const healthcheck = all(runtime, 'HEALTHCHECK').at(-1) ?? '';
  const exec = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
  assert.equal(exec[0], 'node');
  const server = await startTelemetryServer('127.0.0.1', 0);
  try {
    const port = new URL(server.url).port;
    // Asynchronously: the server answering it lives in this process.
    await execFileAsync(process.execPath, exec.slice(1), { env: { ...process.env, CROWDPULSE_HTTP_PORT: port }, timeout: 10_000 });
  } finally {
    await server.close();
  }
  const down = spawnSync(process.execPath, exec.slice(1), {
    env: { ...process.env, CROWDPULSE_HTTP_PORT: String(await freePort()) },
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(down.status, 1);
});
