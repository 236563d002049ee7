/**
 * The section "PostgreSQL outbox" of `docs/benchmarks.md`, rendered from an {@link OutboxReport} of
 * `bench/outbox.ts`: medians over the rounds, every round's own figure beside them, and the goals.
 */
import { CLAIM_CHUNK, DEFAULT_MAX_CLAIMED } from '../src/postgres/claim-rows.js';
import type { Floor } from './outbox-floor.js';
import type { ServiceMicros } from './service-cpu.js';
import { median } from './workload.js';

/** p50/p99 of a set of samples, ms. */
export interface Quantiles {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

/** One round of `bench/outbox.ts`. */
export interface RoundResult {
  readonly amqplib: CpuSplit & {
    readonly msgPerSec: number;
    /** amqplib alone at the steady rate: publish-to-confirm, the broker's share of the latency. */
    readonly steady: { readonly achieved: number; readonly confirmed: Quantiles };
  };
  readonly relays: readonly (CpuSplit & {
    readonly variant: string;
    readonly relays: number;
    readonly msgPerSec: number;
  })[];
  /** The floor relays (bench/outbox-floor.ts) through the same burst; absent in older reports. */
  readonly floors?: readonly (CpuSplit & {
    readonly floor: Floor;
    readonly msgPerSec: number;
  })[];
  readonly cost: { readonly plain: Quantiles; readonly withEnqueue: Quantiles };
  /** Its services' figures are per task; PostgreSQL's includes the bench's own enqueuing transactions. */
  readonly steady: ServiceMicros & {
    readonly achieved: number;
    /** COMMIT returning → the relay's producer having the broker's confirm. */
    readonly confirmed: Quantiles;
    readonly delivered: Quantiles;
    readonly missing: number;
    /** Deliveries of a message already delivered (a publish retried after a late confirm). */
    readonly duplicates: number;
    /** The relay's own CPU per task (absent in older reports). */
    readonly relayMicros?: number | undefined;
  };
}

/** A whole run: what `--json` saves and `--render` reads. */
export interface OutboxReport {
  readonly command: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  /** `os.loadavg()` before and after the run. */
  readonly load: { readonly before: readonly number[]; readonly after: readonly number[] };
  /** What else ran on the machine, in the words of whoever started the run (`--note`). */
  readonly note?: string;
  /** What explains the figures (`--notes file.md`), rendered after the tables. */
  readonly notes?: string;
  readonly settings: {
    readonly rounds: number;
    readonly messages: number;
    readonly samples: number;
    readonly rate: number;
    readonly seconds: number;
    /** Connections the steady stream issues its transactions over. */
    readonly connections: number;
    readonly relays: readonly number[];
    readonly variants: readonly { readonly name: string; readonly journal: Record<string, unknown> }[];
    /** Floor relays run in each round (`--floors`); absent in older reports. */
    readonly floors?: readonly Floor[];
  };
  readonly rounds: readonly RoundResult[];
}

/** The value at percentile `p` of sorted samples (nearest rank, rounded down). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(2)} ms`;
const us = (n: number) => `${n.toFixed(1)} µs`;

/** A figure: its median over the rounds and each round's value. */
function figure(report: OutboxReport, pick: (round: RoundResult) => number, show: (n: number) => string) {
  const each = report.rounds.map(pick);
  return { median: median(each), text: `${show(median(each))} | ${each.map(show).join(' / ')}` };
}

function relayRow(round: RoundResult, variant: string, relays: number) {
  const row = round.relays.find((r) => r.variant === variant && r.relays === relays);
  if (row === undefined) throw new Error(`no relay row ${variant} × ${relays} in the report`);
  return row;
}

function floorRow(round: RoundResult, floor: Floor) {
  const row = round.floors?.find((r) => r.floor === floor);
  if (row === undefined) throw new Error(`no floor row ${floor} in the report`);
  return row;
}

/** A burst's CPU per message on each side: the client's (or relays') own and the services'. */
interface CpuSplit extends ServiceMicros {
  readonly cpuMicrosPerMsg: number;
}

/**
 * Where each burst's CPU went, per message: the client's (or relay's) own, the broker's and
 * PostgreSQL's (bench/service-cpu.ts), medians over the rounds. Empty when a round lacks the
 * services' figures (a report from before they were read, or a machine without `/proc`).
 */
function cpuSplitTable(report: OutboxReport): string[] {
  const s = report.settings;
  const runs: [string, (r: RoundResult) => CpuSplit][] = [['amqplib routed', (r) => r.amqplib]];
  for (const relays of s.relays)
    runs.push([`ferry, ${relays} relay${relays === 1 ? '' : 's'}`, (r) => relayRow(r, 'default', relays)]);
  for (const floor of s.floors ?? []) runs.push([floor, (r) => floorRow(r, floor)]);
  const complete = report.rounds.every((round) =>
    runs.every(
      ([, pick]) => pick(round).brokerMicros !== undefined && pick(round).postgresMicros !== undefined,
    ),
  );
  if (!complete) return [];
  const med = (pick: (r: RoundResult) => number) => us(median(report.rounds.map(pick)));
  return [
    'Where the CPU of each burst went, per message (medians of the rounds). The broker is the process listening on 5672, PostgreSQL the postmaster and every backend, read from `/proc` before and after each burst (bench/service-cpu.ts); both serve only the bench then, but their background work is in the figures too. The sum is what a message costs the machine: on 2 cores shared by all three, its inverse caps msg/s whichever process is busiest.',
    '',
    '| burst | client or relay | broker | PostgreSQL | sum |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...runs.map(([name, pick]) => {
      return `| ${name} | ${med((r) => pick(r).cpuMicrosPerMsg)} | ${med((r) => pick(r).brokerMicros ?? 0)} | ${med((r) => pick(r).postgresMicros ?? 0)} | ${med((r) => pick(r).cpuMicrosPerMsg + (pick(r).brokerMicros ?? 0) + (pick(r).postgresMicros ?? 0))} |`;
    }),
    '',
  ];
}

/** What the floor rows are: a paragraph of the section's description, when the run had them. */
function floorsParagraph(floors: readonly Floor[]): string[] {
  if (floors.length === 0) return [];
  return [
    `After ferry's relays, each round runs the floor relays (${floors.map((f) => `\`${f}\``).join(', ')}; bench/outbox-floor.ts) through the same burst, timed the same way: each is one child process with plain \`pg\` and amqplib and none of ferry, doing the least a correct relay must do, so its ratio to amqplib is what this machine allows any relay. \`floor-read\` reads the rows in \`seq\` order behind a cursor (no claims: one relay only); \`floor-claim\` takes them with ferry's own claim under a lease. Both publish each row on one confirm channel, pipelined, with the row's properties (amqplib's routed options), delete confirmed rows in batches, and hold at most ${DEFAULT_MAX_CLAIMED.toLocaleString('en-US')} rows unconfirmed, in reads of at most ${CLAIM_CHUNK}, as ferry's relay does by default; a floor fails the run unless each row reached the queue exactly once and the outbox is empty.`,
    '',
  ];
}

/** The share of the asked rate a steady stream must achieve to count as run at that rate. */
const AT_RATE = 0.98;

/**
 * Whether the latency goal is met: a p50 within 20 ms says nothing about the goal's rate when the
 * stream fell short of it (a machine too busy to issue the tasks on schedule), so that is a no too.
 */
function latencyMet(p50: number, achieved: number, rate: number): string {
  if (achieved < rate * AT_RATE) return '**no**: the stream fell short of its rate';
  return p50 <= 20 ? 'yes' : '**no**';
}

/** The markdown of the section, starting with its `##` heading. */
export function renderOutboxSection(report: OutboxReport): string {
  const s = report.settings;
  const load = (l: readonly number[]) => l.map((n) => n.toFixed(2)).join(', ');
  const rows: string[] = [];
  const add = (name: string, text: string) => rows.push(`| ${name} | ${text} |`);
  add('amqplib routed, pipelined (msg/s)', figure(report, (r) => r.amqplib.msgPerSec, int).text);
  add('amqplib client CPU per message', figure(report, (r) => r.amqplib.cpuMicrosPerMsg, us).text);
  const ratios = new Map<string, number>();
  for (const variant of s.variants) {
    for (const relays of variant.name === 'default' ? s.relays : [1]) {
      const label = `${relays} relay${relays === 1 ? '' : 's'}${variant.name === 'default' ? '' : `, ${variant.name} \`${JSON.stringify(variant.journal)}\``}`;
      add(
        `relay throughput, ${label} (msg/s)`,
        figure(report, (r) => relayRow(r, variant.name, relays).msgPerSec, int).text,
      );
      const ratio = figure(
        report,
        (r) => relayRow(r, variant.name, relays).msgPerSec / r.amqplib.msgPerSec,
        (n) => `${n.toFixed(2)}×`,
      );
      ratios.set(`${variant.name}:${relays}`, ratio.median);
      add(`relay throughput, ${label}, × amqplib in its round`, ratio.text);
      add(
        `relay CPU per message, ${label}`,
        figure(report, (r) => relayRow(r, variant.name, relays).cpuMicrosPerMsg, us).text,
      );
    }
  }
  for (const floor of s.floors ?? []) {
    add(`floor relay, ${floor} (msg/s)`, figure(report, (r) => floorRow(r, floor).msgPerSec, int).text);
    add(
      `floor relay, ${floor}, × amqplib in its round`,
      figure(
        report,
        (r) => floorRow(r, floor).msgPerSec / r.amqplib.msgPerSec,
        (n) => `${n.toFixed(2)}×`,
      ).text,
    );
    add(
      `floor relay CPU per message, ${floor}`,
      figure(report, (r) => floorRow(r, floor).cpuMicrosPerMsg, us).text,
    );
  }
  add('one-row transaction, p50', figure(report, (r) => r.cost.plain.p50, ms).text);
  add('one-row transaction, p99', figure(report, (r) => r.cost.plain.p99, ms).text);
  add('one-row transaction + enqueue, p50', figure(report, (r) => r.cost.withEnqueue.p50, ms).text);
  add('one-row transaction + enqueue, p99', figure(report, (r) => r.cost.withEnqueue.p99, ms).text);
  const addedP50 = figure(report, (r) => r.cost.withEnqueue.p50 - r.cost.plain.p50, ms);
  const addedP99 = figure(report, (r) => r.cost.withEnqueue.p99 - r.cost.plain.p99, ms);
  add('**cost enqueue adds, p50**', addedP50.text);
  add('**cost enqueue adds, p99**', addedP99.text);
  const achieved = figure(report, (r) => r.steady.achieved, int);
  add(`steady stream, achieved rate (tasks/s, asked ${int(s.rate)})`, achieved.text);
  const confirmedP50 = figure(report, (r) => r.steady.confirmed.p50, ms);
  add('**commit-to-confirm at the steady rate, p50**', confirmedP50.text);
  add(
    '**commit-to-confirm at the steady rate, p99**',
    figure(report, (r) => r.steady.confirmed.p99, ms).text,
  );
  add('commit-to-delivery at the steady rate, p50', figure(report, (r) => r.steady.delivered.p50, ms).text);
  add('commit-to-delivery at the steady rate, p99', figure(report, (r) => r.steady.delivered.p99, ms).text);
  add(
    `amqplib alone at the steady rate, achieved (msg/s)`,
    figure(report, (r) => r.amqplib.steady.achieved, int).text,
  );
  add(
    'amqplib alone at the steady rate, publish-to-confirm p50',
    figure(report, (r) => r.amqplib.steady.confirmed.p50, ms).text,
  );
  add(
    'amqplib alone at the steady rate, publish-to-confirm p99',
    figure(report, (r) => r.amqplib.steady.confirmed.p99, ms).text,
  );
  add('steady stream, tasks not delivered within 60 s', figure(report, (r) => r.steady.missing, int).text);
  add('steady stream, duplicate deliveries', figure(report, (r) => r.steady.duplicates, int).text);
  const steadyCpu = (name: string, pick: (r: RoundResult) => number | undefined) => {
    if (report.rounds.every((r) => pick(r) !== undefined))
      add(name, figure(report, (r) => pick(r) ?? 0, us).text);
  };
  steadyCpu('steady stream, relay CPU per task', (r) => r.steady.relayMicros);
  steadyCpu('steady stream, broker CPU per task', (r) => r.steady.brokerMicros);
  steadyCpu(
    'steady stream, PostgreSQL CPU per task (with the enqueuing transaction)',
    (r) => r.steady.postgresMicros,
  );

  const oneRelay = ratios.get('default:1') ?? Number.NaN;
  const goals = [
    `| one relay ≥ 0.8× amqplib routed | ${oneRelay.toFixed(3)}× | ${oneRelay >= 0.8 ? 'yes' : '**no**'} |`,
    `| commit-to-confirm p50 ≤ 20 ms at ${int(s.rate)} tasks/s | ${ms(confirmedP50.median)}, at ${int(achieved.median)} tasks/s achieved | ${latencyMet(confirmedP50.median, achieved.median, s.rate)} |`,
  ];
  return [
    '## PostgreSQL outbox',
    '',
    '<!-- Generated by bench/outbox.ts --write-docs (or --render report.json); do not edit by hand. -->',
    '',
    `Command: \`${report.command}\``,
    '',
    `Run ${report.startedAt} → ${report.finishedAt}, ${s.rounds} round(s) on ${report.machine.cores} × ${report.machine.cpu}, Node ${report.machine.node}, PostgreSQL and RabbitMQ on the same machine. Load average (1, 5, 15 min) before: ${load(report.load.before)}; after: ${load(report.load.after)}.${report.note === undefined ? '' : ` ${report.note}`}`,
    '',
    `Each round runs, in this order: amqplib routed (${int(s.messages)} JSON bodies of 1 KiB pipelined on a confirm channel, without \`mandatory\`, through a durable direct exchange into a durable queue, bench/clients/amqplib.ts), then amqplib alone publishing at the steady rate below, each message awaited on its own confirm (its publish-to-confirm is the broker's share of any latency); the relay throughput (the same ${int(s.messages)} bodies, to the same exchange, committed into the outbox in one transaction while the relays, child processes, already run; timed from that commit until the outbox is empty). As in the routed bench, that exchange has an alternate exchange and the relays use it (the \`topology.unroutable\` option, docs/operations/unroutable.md): once their probe proved it, they publish without \`mandatory\`, as amqplib does; the cost of \`enqueue\` (${int(s.samples)} transactions of each kind, alternated on one connection); a steady stream of ${int(s.rate)} tasks/s for ${s.seconds} s, one task per transaction, issued on schedule over ${s.connections} connections, one relay. Each task of the stream has a routing key of its own (a fanout exchange routes them all to the queue), so commit-to-confirm is per task: from COMMIT returning in the bench to the relay's producer reporting the broker's confirm (\`observe()\`'s \`settled\`, which names the routing key), both on the machine's wall clock. Commit-to-delivery is from COMMIT returning to a consumer on the queue having the message. CPU is the client's or the relays' own process time per message; PostgreSQL's and RabbitMQ's are not in it.`,
    '',
    ...floorsParagraph(s.floors ?? []),
    '| figure | median | per round |',
    '| --- | ---: | --- |',
    ...rows,
    '',
    ...cpuSplitTable(report),
    '| goal | measured (median) | met |',
    '| --- | --- | --- |',
    ...goals,
    '',
    ...(report.notes === undefined ? [] : [report.notes.trimEnd(), '']),
  ].join('\n');
}
