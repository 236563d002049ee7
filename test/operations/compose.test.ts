/**
 * docker-compose.yml can start as shipped: every file it mounts exists, every named volume is declared,
 * every service has a fixed container name (`docker stop ml-rabbitmq` works) and Prometheus scrapes
 * services that exist. No YAML library is installed: the file is read line by line, relying on its
 * two-space indentation; `docker-compose config -q` validates it fully where that is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KNOWN_VARIABLES } from '../../src/service/config.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const lines = readFileSync(`${root}docker-compose.yml`, 'utf8').split('\n');

interface Service {
  readonly name: string;
  readonly containerName: string | null;
  readonly volumes: string[];
}

/** Services with their `container_name` and `volumes:` entries; top-level named volumes. */
function parse(): { services: Service[]; namedVolumes: Set<string> } {
  const services: Service[] = [];
  const namedVolumes = new Set<string>();
  let section = '';
  let service: { name: string; containerName: string | null; volumes: string[] } | null = null;
  let inVolumes = false;
  for (const raw of lines) {
    const line = raw.replace(/\s+#.*$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      section = line.replace(/:.*$/, '');
      continue;
    }
    if (section === 'volumes' && indent === 2) namedVolumes.add(line.trim().replace(/:$/, ''));
    if (section !== 'services') continue;
    if (indent === 2) {
      service = { name: line.trim().replace(/:$/, ''), containerName: null, volumes: [] };
      services.push(service);
      inVolumes = false;
    } else if (indent === 4 && service !== null) {
      inVolumes = line.trim() === 'volumes:';
      const container = line.match(/^\s+container_name:\s*(\S+)$/);
      if (container !== null) service.containerName = container[1] ?? null;
    } else if (inVolumes && service !== null && line.trim().startsWith('- ')) {
      service.volumes.push(line.trim().slice(2).replace(/^"|"$/g, ''));
    }
  }
  return { services, namedVolumes };
}

const { services, namedVolumes } = parse();

describe('docker-compose.yml', () => {
  it('has the whole stack, each service with a fixed container name', () => {
    expect(services.map((s) => s.name)).toEqual(
      expect.arrayContaining(['ml-rabbitmq', 'ml-redis', 'ferry', 'prometheus', 'grafana']),
    );
    for (const service of services) expect(service.containerName, service.name).toMatch(/^[\w.-]+$/);
    expect(services.find((s) => s.name === 'ml-rabbitmq')?.containerName).toBe('ml-rabbitmq');
  });

  it('mounts only files that exist and volumes that are declared', () => {
    const mounts = services.flatMap((service) => service.volumes.map((volume) => ({ service, volume })));
    expect(mounts.length).toBeGreaterThan(5);
    for (const { service, volume } of mounts) {
      const [source, target] = volume.split(':');
      expect(target, `${service.name}: ${volume}`).toMatch(/^\//);
      if (source?.startsWith('./') || source?.startsWith('/')) {
        const path = source.startsWith('./') ? `${root}${source.slice(2)}` : source;
        expect(existsSync(path), `${service.name} mounts ${source}, which does not exist`).toBe(true);
        // A missing file would be created by Docker as an empty directory: the mount must be a file.
        expect(statSync(path).isFile(), `${service.name} mounts ${source}, not a file`).toBe(true);
      } else {
        expect(namedVolumes.has(source ?? ''), `${service.name} uses undeclared volume ${source}`).toBe(true);
      }
    }
  });

  it('mounts the alert rules where the Prometheus config loads them, and the dashboard where Grafana does', () => {
    const prometheus = services.find((s) => s.name === 'prometheus');
    const rules = prometheus?.volumes.find((v) => v.startsWith('./docs/operations/alerts.yml:'));
    const ruleGlob = readFileSync(`${root}deploy/prometheus/prometheus.yml`, 'utf8').match(
      /rule_files:\n\s+- (\S+)/,
    )?.[1];
    expect(rules?.split(':')[1]).toMatch(new RegExp(`^${(ruleGlob ?? '-').replace('*', '[^/]*')}$`));

    const grafana = services.find((s) => s.name === 'grafana');
    const dashboard = grafana?.volumes.find((v) => v.startsWith('./docs/operations/grafana-dashboard.json:'));
    const provider = readFileSync(`${root}deploy/grafana/provisioning/dashboards/ferry.yml`, 'utf8');
    const folder = provider.match(/path: (\S+)/)?.[1];
    expect(dashboard?.split(':')[1]?.startsWith(`${folder}/`)).toBe(true);
  });

  it('has Prometheus scrape services of the stack', () => {
    const config = readFileSync(`${root}deploy/prometheus/prometheus.yml`, 'utf8');
    const targets = [...config.matchAll(/"([\w.-]+):\d+"/g)].map((match) => match[1]);
    expect(targets.length).toBeGreaterThan(1);
    for (const host of targets) expect(services.map((s) => s.name)).toContain(host);
  });

  const dockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  it.runIf(dockerCompose.error === undefined)(
    'passes docker-compose config -q (when docker-compose is installed)',
    () => {
      const run = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
    },
  );

  it.runIf(dockerCompose.error === undefined)(
    'gives the ferry service only variables ferry reads, the journal on the ferry volume (docker-compose config)',
    () => {
      // docker-compose is Python with PyYAML; the same interpreter turns its resolved YAML into JSON.
      const resolved = spawnSync(
        'sh',
        [
          '-c',
          'docker-compose -f docker-compose.yml config | python3 -c "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"',
        ],
        { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
      );
      expect(resolved.status, resolved.stderr).toBe(0);
      const config = JSON.parse(resolved.stdout) as {
        services: Record<string, { environment?: Record<string, string>; volumes?: unknown[] }>;
      };
      const environment = config.services.ferry?.environment ?? {};
      expect(Object.keys(environment)).toContain('FERRY_JOURNAL');
      for (const name of Object.keys(environment)) {
        expect(KNOWN_VARIABLES, `compose sets ${name}, which ferry does not read`).toContain(name);
      }
      const journal = environment.FERRY_JOURNAL?.replace(/^sqlite:/, '') ?? '';
      const dataMount = services
        .find((s) => s.name === 'ferry')
        ?.volumes.map((volume) => volume.split(':'))
        .find(([source, target]) => namedVolumes.has(source ?? '') && journal.startsWith(`${target}/`));
      expect(dataMount, `the journal ${journal} is not on a named volume`).toBeDefined();
    },
  );
});
