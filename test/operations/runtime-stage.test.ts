/**
 * The image's runtime stage, without a container engine: the service built as the Dockerfile builds
 * it, started as an unprivileged user in a directory that user cannot write, with the environment the
 * Dockerfile's runtime stage sets, opens its journal in the stage's data directory, becomes ready
 * and accepts a task. The stage's paths are relocated under a temporary root (the test must not write
 * /var/lib); HOST, PORT and RABBITMQ_URL point at loopback, a free port and a throwaway broker.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayBroker, type ThrowawayBroker } from '../support/throwaway-broker.js';
import { type ServiceProcess, startServiceProcess } from './support/service-process.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** The unprivileged user the service runs as here (the image's `node` user has no account on this host). */
const NOBODY = 65_534;

/** The runtime stage's instructions: its ENV (continuation lines joined), USER, VOLUME and RUN lines. */
function runtimeStage(): {
  env: Record<string, string>;
  user: string;
  volume: string;
  runs: string[];
  cmd: string[];
} {
  const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8').replace(/\\\n\s*/g, ' ');
  const stage = dockerfile.slice(dockerfile.search(/^FROM \S+ AS runtime$/m));
  const env: Record<string, string> = {};
  for (const [, assignments] of stage.matchAll(/^ENV (.+)$/gm)) {
    for (const [, name, value] of (assignments ?? '').matchAll(/(\w+)=(\S+)/g)) env[name ?? ''] = value ?? '';
  }
  return {
    env,
    user: stage.match(/^USER (\S+)$/m)?.[1] ?? 'root',
    volume: stage.match(/^VOLUME (\S+)$/m)?.[1] ?? '',
    runs: [...stage.matchAll(/^RUN (.+)$/gm)].map((match) => match[1] ?? ''),
    cmd: JSON.parse(stage.match(/^CMD (\[.+\])$/m)?.[1] ?? '[]') as string[],
  };
}

const stage = runtimeStage();
let temp = '';
let broker: ThrowawayBroker;
let service: ServiceProcess;

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'ferry-runtime-'));
  chmodSync(temp, 0o755);
  const app = join(temp, 'app');
  mkdirSync(app, { mode: 0o755 });
  // The build stage's `npm run build`, written where the runtime stage copies it from.
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`the build failed: ${build.stdout}${build.stderr}`);
  copyFileSync(`${root}package.json`, join(app, 'package.json'));
  symlinkSync(`${root}node_modules`, join(app, 'node_modules'));
  // The stage's `RUN mkdir -p <volume> && chown <user> <volume>`, with the unprivileged user here.
  const data = join(temp, stage.volume);
  mkdirSync(data, { recursive: true });
  chownSync(data, NOBODY, NOBODY);
  broker = await startThrowawayBroker({ name: 'runtime-stage' });
  const env = Object.fromEntries(
    Object.entries(stage.env).map(([name, value]) => [name, value.replace(stage.volume, data)]),
  );
  service = await startServiceProcess(stage.cmd.slice(1), {
    cwd: app,
    uid: NOBODY,
    gid: NOBODY,
    env: { ...env, HOST: '127.0.0.1', PORT: '0', RABBITMQ_URL: broker.url, PATH: process.env.PATH ?? '' },
  });
}, 180_000);

afterAll(async () => {
  await service?.stop();
  await broker?.stop();
  if (temp !== '') rmSync(temp, { recursive: true, force: true });
});

describe('the image runtime stage', () => {
  it('runs as a user other than root, with the default journal on a volume that user owns', () => {
    expect(stage.user).not.toBe('root');
    expect(stage.volume).toMatch(/^\/\S+$/);
    expect(stage.env.FERRY_JOURNAL).toMatch(new RegExp(`^sqlite:${stage.volume}/[^/]+$`));
    expect(stage.runs.some((run) => run.includes(`chown ${stage.user}:${stage.user} ${stage.volume}`))).toBe(
      true,
    );
    expect(stage.cmd.slice(0, 1)).toEqual(['node']);
  });

  it('as that user, in a directory it cannot write, opens its journal, becomes ready and accepts', async () => {
    // The working directory is not writable by the service's user: the journal must go elsewhere.
    const canWrite = spawnSync('sh', ['-c', 'test -w .'], {
      cwd: join(temp, 'app'),
      uid: NOBODY,
      gid: NOBODY,
    });
    expect(canWrite.status).toBe(1);

    await service.until(
      async () => (await service.call('GET', '/health/ready')).status === 200,
      'readiness',
      60_000,
    );
    const reply = await service.call('POST', '/api/shares/share-1/ml/summarize', {
      content: { text: 'a page to summarize' },
    });
    expect(reply.status, JSON.stringify(reply.json)).toBe(202);

    const journal = join(temp, (stage.env.FERRY_JOURNAL ?? '').replace(/^sqlite:/, ''));
    expect(existsSync(journal)).toBe(true);
    expect(statSync(journal).uid).toBe(NOBODY);
    await service.until(
      async () => (await broker.ctl('list_queues', 'name', 'messages')).includes('ml.summarize\t1'),
      'the task in ml.summarize',
    );
    // The image's environment holds nothing ferry does not read.
    expect(service.lines.filter((line) => String(line.msg).startsWith('unknown variable'))).toEqual([]);
  });
});
