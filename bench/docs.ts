/**
 * `docs/benchmarks.md`, rendered from a {@link BenchReport}: the command, the machine and its load,
 * the versions, one table per variant, the goals, and what explains each goal that was missed.
 */
import { BASELINE } from './clients/index.js';
import { fmt, type GoalResult, recoveryBoundMs, type SummaryRow } from './report.js';
import type { BenchReport } from './run.js';
import type { Variant } from './workload.js';

const VARIANT_TITLES: Record<Variant, string> = {
  routed: 'Routed: N persistent messages into one durable queue, each client at its fastest',
  'client-bound': 'Client-bound: routed to a queue that keeps nothing (non-durable, `x-max-length: 0`)',
  sequential: 'Naive sequential await: `for … await publish()`',
  outstanding: 'All outstanding at once: every publish issued before any is awaited',
  recovery: 'Recovery: `rabbitmqctl close_all_connections` during a steady stream (throwaway node)',
};

const VARIANT_NOTES: Record<Variant, string> = {
  routed:
    'Time from the first publish to the last confirm. amqplib publishes with a confirm callback and ' +
    'waits for `drain` when `publish()` returns false; the promise-based clients issue every publish ' +
    'and await all the promises; ferry hands the messages to `publishMany()` (its batch call, one ' +
    'journal commit per batch) in batches of 1,000 and awaits `flush()`, which resolves once every ' +
    'accepted message is confirmed or dead-lettered (the dead-lettered count from `status()`); ' +
    '`ferry-memory-receipts` awaits every `receipt.settled` instead, as a caller who needs each ' +
    'message’s own outcome does, which costs a promise per message. After each run ' +
    'the queue must hold exactly N messages (`checkQueue`). rascal and celery-node publish fewer ' +
    'messages (shown next to their name): at their rate the full count would take many minutes; ' +
    'celery-node has no publisher confirms, so its run is timed until the queue holds every message. ' +
    'The bench exchange has an alternate exchange (free for routed messages), and the ferry rows use ' +
    'it (`unroutable` option, docs/operations/unroutable.md): once a probe proved it, ferry publishes ' +
    'without `mandatory` and still sees every unroutable message. Reference rows: `amqplib-mandatory` ' +
    'is amqplib with `mandatory` (what ferry publishes without an alternate exchange: an unroutable ' +
    'message comes back instead of vanishing); ' +
    '`ferry-memory-mandatory` is ferry without the option, every message `mandatory`; together they ' +
    'size what `mandatory` costs the broker. `ferry-memory-window-1k` is ferry with an in-flight ' +
    'window of 1,000 instead of its default 10,000. `ferry-memory-stamped` is ferry with the `appId` ' +
    'and `timestamp` options, which it leaves off by default: 20 bytes more of properties per message ' +
    '(every other row sends what amqplib sends: persistent, content type, message id). ' +
    '`ferry-memory-traced` is ferry with a tracer provider registered (a no-op span processor) and ' +
    'the W3C propagators: a PRODUCER span per message and its context in the headers ' +
    '(docs/operations/tracing.md); `amqplib-traced` is amqplib instrumented by hand to the same ' +
    'conventions with the same provider (a PRODUCER span per message with ferry’s name and attributes, ' +
    'its context injected into the headers, ended at the confirm), the floor of what the SDK costs a ' +
    'plain client; `ferry-memory` has `@opentelemetry/api` installed but no provider, ' +
    'and `ferry-memory-no-otel` is ferry where the API cannot be found (its child hides it from ' +
    '`require`, bench/clients/without-otel-api.ts), as for an application without it: nothing of ' +
    'OpenTelemetry is loaded.',
  'client-bound':
    'The messages are routed to a non-durable queue with `x-max-length: 0`, which drops them at once, ' +
    'so the broker does no disk work and the client’s CPU matters most. An unroutable key would take ' +
    'even the queue away, but ferry treats an unroutable message as a failure (retry, then ' +
    'dead-letter), so it cannot take that path; the queue keeps the work the same for every client. ' +
    'With the broker on the same two cores it is still part of the picture. ' +
    'celery-node always declares and fills its own queue, so it has no row here.',
  sequential:
    'What a user writes first: await each publish call. For amqplib and the promise-based peers that ' +
    'is one confirm round trip per message; ferry’s `publish()` resolves on acceptance, so the loop ' +
    'keeps many messages in flight. Ratios are against amqplib awaiting each confirm.',
  outstanding:
    'Every publish is issued at once without flow control (amqplib ignores `drain`; ferry gets every ' +
    '`publishMany()` batch before any is awaited, so all N are accepted before a single confirm can ' +
    'come back) and the confirms are awaited at the end; the column that matters is peak RSS ' +
    '(`process.resourceUsage().maxRSS` of the client’s process, which includes the process’s ' +
    'baseline: in brackets, its RSS once connected, before the first publish).',
  recovery:
    'A steady 1,000 msg/s stream (5 messages every 5 ms); the runner closes every connection on a ' +
    'throwaway node and the stream goes on. Resume = the longest silence between two confirms across ' +
    'the close. Every client that reconnects is tuned to a 100 ms first reconnect delay. Lost = neither ' +
    'reported failed to the caller nor in the queue; failed = the client rejected the publish (the ' +
    'caller must retry it); duplicated = extra copies in the queue.',
};

function find(report: BenchReport, variant: Variant, client: string): SummaryRow | undefined {
  return report.summary.find((row) => row.variant === variant && row.client === client);
}

/** `1.23×` of a row's ratio, or `n/a` when the row did not run. */
function ratio(row: SummaryRow | undefined): string {
  return row === undefined ? 'n/a' : `${row.ratioToBaseline.toFixed(2)}×`;
}

/** The CPU profile the notes below cite: one routed run of 50,000 messages per client. */
const PROFILE =
  'In a CPU profile of one routed run of 50,000 messages per client (`npx tsx bench/run.ts --clients ' +
  'amqplib,ferry-memory --variants routed --rounds 1 --profile <dir>`, i.e. ' +
  '`node --cpu-prof`; a separate run, so its figures are not in the tables)';

/** `x.xx×` of one row's ratio over another's, or `n/a`. */
function relative(row: SummaryRow | undefined, to: SummaryRow | undefined): string {
  if (row === undefined || to === undefined) return 'n/a';
  return `${(row.ratioToBaseline / to.ratioToBaseline).toFixed(2)}×`;
}

/** What publishing `mandatory` costs the broker, as the reference rows measured it in this run. */
function mandatoryCost(report: BenchReport, variant: Variant): string {
  const plain = find(report, variant, 'ferry-memory');
  const mandatory = find(report, variant, 'ferry-memory-mandatory');
  return (
    'publishing `mandatory` costs the broker per message (the queue tells the channel it took each ' +
    `one): amqplib with it reached ${ratio(find(report, variant, 'amqplib-mandatory'))} plain ` +
    `amqplib, and ferry with every message \`mandatory\` ${relative(mandatory, plain)} of ferry ` +
    'with the alternate exchange'
  );
}

/**
 * Why a missed goal was missed and what would close it. The analysis comes from profiles and heap
 * snapshots of this code; the figures quoted from the report are this run's.
 */
const GOAL_NOTES: Record<string, (report: BenchReport) => string> = {
  'routed-memory': (report) =>
    'ferry publishes through the alternate exchange here, without `mandatory` (' +
    `${mandatoryCost(report, 'routed')}), and sends the same properties as amqplib. What remains is ` +
    'the client’s CPU, taken from the two cores the broker needs (see the CPU goal). The in-flight ' +
    'window is not the limit: with 1,000 instead of the default 10,000 ferry reached ' +
    `${ratio(find(report, 'routed', 'ferry-memory-window-1k'))}. Properties are: with an app id and a ` +
    `timestamp (20 bytes more per message) ferry reached ${ratio(find(report, 'routed', 'ferry-memory-stamped'))}, ` +
    'which is why it sets neither by default. What would close the rest: less CPU per message.',
  'routed-cpu': (report) =>
    'Of ferry’s CPU per message beyond amqplib’s, no single step stands out: holding every accepted ' +
    'message until its confirm (by design; amqplib lets go once it is written) makes each young-generation ' +
    'garbage collection copy more, and validation and bookkeeping (publisher, producer, confirm tracker, ' +
    'the memory journal’s queue of held messages) add the rest. ' +
    'A promise per message is the largest single item a caller controls: awaiting every ' +
    '`receipt.settled` instead of one `flush()` took ' +
    `${find(report, 'routed', 'ferry-memory-receipts')?.cpuMicrosPerMsg.toFixed(1) ?? 'n/a'} µs against ` +
    `${find(report, 'routed', 'ferry-memory')?.cpuMicrosPerMsg.toFixed(1) ?? 'n/a'} (\`ferry-memory-receipts\`). ` +
    `${PROFILE} shows the rest spread thin. What would close it: fewer objects per held message (the ` +
    'message, its properties and the accepted record in one), so that holding costs the collector less.',
  'routed-sqlite': (report) =>
    `ferry with the memory journal reached ${ratio(find(report, 'routed', 'ferry-memory'))}; the ` +
    'sqlite journal writes each message twice on top of that, a row with its body when it is accepted ' +
    'and a delete by primary key when it is confirmed, each batch in one transaction (' +
    `${find(report, 'routed', 'ferry-sqlite')?.cpuMicrosPerMsg.toFixed(0) ?? 'n/a'} µs of CPU per message ` +
    `against ${find(report, 'routed', 'ferry-memory')?.cpuMicrosPerMsg.toFixed(0) ?? 'n/a'} with the memory ` +
    'journal), synchronously on the event loop and on the cores the broker needs. The WAL checkpoints ' +
    'already run on a worker thread (inside the commits they blocked the loop ≈40 % longer in ' +
    '`bench/journal.ts`); what is left is sqlite’s own page writes in each commit. What would close ' +
    'it: the whole journal on a worker thread, so that commits stop blocking the event loop (the CPU ' +
    'stays, on a core the broker also needs); larger pages measured slower for small batches.',
  'client-bound': (report) => {
    const ferry = find(report, 'client-bound', 'ferry-memory');
    const amqplib = find(report, 'client-bound', BASELINE);
    if (ferry === undefined || amqplib === undefined) return 'ferry or amqplib did not run.';
    const rounds = ferry.perRound.map((rate, i) => (rate / (amqplib.perRound[i] ?? Number.NaN)).toFixed(2));
    return (
      'With the queue doing almost nothing, the client’s CPU per message decides: ferry’s was ' +
      `${ferry.cpuRatioToBaseline.toFixed(2)}× amqplib’s (median of the rounds’ ratios; medians ` +
      `${ferry.cpuMicrosPerMsg.toFixed(1)} and ${amqplib.cpuMicrosPerMsg.toFixed(1)} µs): what amqplib ` +
      'does (encode, write, count the ack) plus validation, a journal entry per acceptance and per ' +
      'confirm, and holding the message until it is confirmed (see the CPU goal). The rounds’ ' +
      `throughput ratios (${rounds.join(', ')}) spread wider than the gap to the goal: on two cores ` +
      'shared with the broker, it is not a margin either way.'
    );
  },
  sequential: (report) =>
    `amqplib awaiting each confirm reached ${fmt(find(report, 'sequential', BASELINE)?.msgsPerSec ?? Number.NaN)} ` +
    'msg/s: a confirm round trip per message. ferry’s loop is not bound by that (its `publish()` resolves on ' +
    'acceptance), so it runs near its pipelined rate, and the ratio is the pipelined rate over the round ' +
    'trip rate: on a faster, less loaded broker the round trip shrinks and the ratio with it. Closing it ' +
    'is the same work as the routed goals.',
  'outstanding-rss': (report) => {
    const ferry = find(report, 'outstanding', 'ferry-memory');
    const grown = ferry === undefined ? Number.NaN : ferry.peakRssMiB - ferry.startRssMiB;
    const perMessage = ferry === undefined ? Number.NaN : (grown * 1_048_576) / ferry.messages / 1_024;
    return (
      `ferry’s process held ${ferry?.startRssMiB.toFixed(0) ?? 'n/a'} MiB before its first publish ` +
      '(Node alone is ≈41 MiB; then amqplib, xstate and zod, ≈10 MiB of it zod’s: rxjs and prom-client ' +
      `load only when \`state$\`, \`events$\` or metrics are used) and grew by ${grown.toFixed(0)} MiB, ` +
      `${perMessage.toFixed(1)} KiB per outstanding message. The goal is below the floor of this ` +
      'workload in Node with V8’s default heap: `bench/outstanding-floor.mjs` runs the same accept loop ' +
      'in a process that imported ferry and holds one connection, against a stand-in that keeps only ' +
      'what any client must (a Buffer of each body and a receipt whose `settled` promise the caller ' +
      'reads), and it peaks at ≈161 MiB (168 MB; median of 3), ≈154 MiB (161 MB) with `--flush`, where ' +
      'the caller reads no promise, as ferry’s run here waits with `flush()`: Node and the libraries ≈42 MiB, ' +
      'the bodies 48 MiB, the young generation, which grows to its 32 MiB maximum under any such ' +
      'allocation rate, and the old generation the receipts are promoted to. With `--ferry`, ferry’s own ' +
      'producer accepts the same messages without ever connecting, so it holds them all and sends none: ' +
      '≈166 MiB (174 MB), ≈11 MiB over the stand-in (its objects per message: the message, its ' +
      'properties, the accepted record, the journal’s map entry). Sending is what takes the run above ' +
      'that: with `--ferry-sent` (started, sending, waiting with `flush()`) the peak was 198–244 MiB and ' +
      'off-heap memory (`arrayBuffers`, sampled every 10 ms) peaked at 69–113 MiB against 49 MiB of ' +
      'bodies (3 runs). amqplib copies every message into new buffers (a frame from Node’s buffer pool, ' +
      'a zeroed body frame, a properties frame: ≈2.2 KiB per 1 KiB message), garbage once written but ' +
      'outside V8’s heap, so freed only when a later collection finds their handles dead: with a 2 MiB ' +
      'young generation instead of 16 (`node --max-semi-space-size=2`, a process flag, not a library’s ' +
      'to set) the off-heap peak was 61–68 MiB and the RSS peak 214 MiB. amqplib itself: ' +
      `${find(report, 'outstanding', BASELINE)?.peakRssMiB.toFixed(0) ?? 'n/a'} ` +
      'MiB (it holds every encoded frame). What would close the gap to the floor: frames encoded without ' +
      'amqplib’s per-message copies (an encoder writing each message into one reused buffer, which means ' +
      'replacing amqplib’s publish path), then fewer objects per held message; even both leave the ' +
      'floor above 150 MB while zod and xstate are loaded. A caller who needs a bound sets ' +
      '`maxBufferedBytes` or ' +
      '`maxBufferedMessages`: beyond them `publish()` waits for room.'
    );
  },
  recovery: () =>
    'The resume time runs from the last confirm before the close to the first after it: the broker ' +
    'closing the connection, the first reconnect delay (100 ms plus up to 30 % jitter), the TCP and AMQP ' +
    'handshakes, the confirm channel, and the first confirm of a republished message; on a loaded machine ' +
    'each of these stretches.',
};

/** The client's name, with its message count when a cap made it publish fewer than the others. */
function clientLabel(row: SummaryRow, rows: readonly SummaryRow[]): string {
  const most = Math.max(...rows.map((r) => r.messages));
  return row.messages < most ? `${row.client} (${fmt(row.messages)} messages)` : row.client;
}

function throughputTable(rows: readonly SummaryRow[]): string {
  const lines = [
    '| client | msg/s | × amqplib | msg/s per round | client CPU µs/msg | CPU × amqplib | peak RSS MiB (at start) | queue check | failed |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |',
  ];
  for (const row of rows) {
    const check =
      row.variant === 'client-bound' ? 'kept 0' : row.queueChecksPassed ? 'exactly N' : '**wrong**';
    lines.push(
      `| ${clientLabel(row, rows)} | ${fmt(row.msgsPerSec)} | ${row.ratioToBaseline.toFixed(2)} | ` +
        `${row.perRound.map(fmt).join(' / ')} | ` +
        `${row.cpuMicrosPerMsg.toFixed(1)} | ${row.cpuRatioToBaseline.toFixed(2)} | ` +
        `${row.peakRssMiB.toFixed(0)} (${row.startRssMiB.toFixed(0)}) | ` +
        `${row.queueChecksPassed ? check : '**wrong**'} | ${row.failedPublishes} |`,
    );
  }
  return lines.join('\n');
}

function recoveryTable(rows: readonly SummaryRow[]): string {
  const lines = [
    '| client | resume ms (median) | attempted | failed (caller told) | lost | duplicated |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const r = row.recovery;
    if (r === undefined) continue;
    lines.push(
      `| ${row.client} | ${Number.isNaN(r.resumeMs) ? 'did not resume' : fmt(r.resumeMs)} | ${fmt(r.attempted)} | ` +
        `${fmt(r.failed)} | ${fmt(r.lost)} | ${fmt(r.duplicated)} |`,
    );
  }
  return lines.join('\n');
}

function goalTable(goals: readonly GoalResult[]): string {
  const lines = ['| goal | measured | met |', '| --- | --- | --- |'];
  for (const goal of goals) {
    const met = goal.met === null ? 'not run' : goal.met ? 'yes' : `**no**: ${goal.shortfall ?? ''}`;
    lines.push(`| ${goal.goal} | ${goal.value} | ${met} |`);
  }
  return lines.join('\n');
}

/** The markdown of `docs/benchmarks.md`. */
export function renderDocs(report: BenchReport): string {
  const { machine, settings } = report;
  const out: string[] = [
    '# Benchmarks: ferry and the other Node RabbitMQ clients, side by side',
    '',
    '<!-- Generated by bench/run.ts --write-docs from its latest run; do not edit by hand. -->',
    '',
    `Command: \`${report.command}\``,
    '',
    `Run ${report.startedAt} → ${report.finishedAt}. ${settings.rounds} round(s); in each round every ` +
      'variant runs every client once, in an order rotated by one client per round, each run in a fresh ' +
      'child process (`bench/child.ts`, adapters in `bench/clients/`). Figures are medians over the rounds; ' +
      `ratios are medians of the per-round ratios to ${BASELINE}: both sides of each ratio ran in the same ` +
      'round, a few minutes apart, so a change in the machine’s load between rounds does not skew them. ' +
      'The children run the bench compiled to JavaScript (`bench/build.ts`), without a TypeScript loader, ' +
      'so that no loader counts towards a client’s CPU or memory.',
    '',
    `Workload: ${fmt(settings.messages)} messages (${fmt(settings.sequentialMessages)} in the sequential ` +
      `variant) of ${settings.bodyBytes} bytes of JSON built per message, persistent, with a message id, ` +
      'published with confirms through a durable direct exchange into one durable classic queue ' +
      '(celery-node: the default exchange, as it always does).',
    '',
    '## Machine',
    '',
    `- ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}, ` +
      `RabbitMQ ${machine.rabbitmq} (on the same machine).`,
    `- Load before: \`${report.load.before}\``,
    `- Load after: \`${report.load.after}\``,
    '- The machine was shared with other work during the run: absolute numbers are noisy, the ratios ' +
      'within a round much less so.',
    '',
    '## Versions',
    '',
    ...Object.entries(report.versions).map(([name, version]) => `- ${name} ${version}`),
    '',
    '## Goals (ferry)',
    '',
    goalTable(report.goals),
    '',
  ];
  const missed = report.goals.filter((goal) => goal.met === false);
  if (missed.length > 0) {
    out.push('### Missed goals: why, and what would close them', '');
    for (const goal of missed) {
      out.push(
        `- **${goal.goal}**: ${goal.value}, ${goal.shortfall ?? ''}. ${GOAL_NOTES[goal.id]?.(report) ?? ''}`.trim(),
      );
    }
    out.push('');
  }
  for (const variant of settings.variants) {
    const rows = report.summary.filter((row) => row.variant === variant);
    if (rows.length === 0) continue;
    out.push(`## ${VARIANT_TITLES[variant]}`, '', VARIANT_NOTES[variant], '');
    out.push(variant === 'recovery' ? recoveryTable(rows) : throughputTable(rows), '');
    const pipelined = find(report, 'routed', BASELINE);
    if (variant === 'sequential' && pipelined !== undefined) {
      const ferry = find(report, 'sequential', 'ferry-memory');
      out.push(
        `For reference, amqplib with pipelined confirms (routed) reached ${fmt(pipelined.msgsPerSec)} msg/s; ` +
          `ferry’s naive loop (memory journal) reached ${fmt(ferry?.msgsPerSec ?? Number.NaN)} msg/s, ` +
          `${((ferry?.msgsPerSec ?? Number.NaN) / pipelined.msgsPerSec).toFixed(2)}× of it.`,
        '',
      );
    }
    if (variant === 'recovery') {
      out.push(
        `Goal bound for ferry: ${recoveryBoundMs(settings.recovery.reconnectDelayMs)} ms ` +
          `(first reconnect delay ${settings.recovery.reconnectDelayMs} ms + 0.15 s, at least 0.3 s).`,
        '',
      );
    }
  }
  return `${out.join('\n')}\n`;
}
