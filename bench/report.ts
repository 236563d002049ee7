/**
 * The report: every run as measured, medians per variant and client, ratios to the baseline taken
 * within each round (the clients of one round share the machine's load), and the goals.
 */
import { BASELINE } from './clients/index.js';
import { type Measurement, median, messageId, type Variant } from './workload.js';

/** One child run as the runner recorded it. */
export interface RunRecord {
  readonly round: number;
  readonly variant: Variant;
  readonly client: string;
  readonly measurement: Measurement;
  /** Messages the queue held after the run (`checkQueue`), for the variants that keep messages. */
  readonly queueCount?: number;
  /** What the queue should have held. */
  readonly expectedCount?: number;
  /** Recovery only: scored against the queue on the throwaway node. */
  readonly score?: RecoveryScore;
}

/** The recovery run's outcome, Jepsen-style. */
export interface RecoveryScore {
  /** Handed to the client. */
  readonly attempted: number;
  /** The client reported the publish as failed (the caller must retry it). */
  readonly failed: number;
  /** Not reported as failed and not in the queue: silently lost. */
  readonly lost: number;
  /** Copies in the queue beyond the first. */
  readonly duplicated: number;
  /** In the queue but never reported confirmed (a failed publish that was delivered anyway, or unsettled). */
  readonly unconfirmedDelivered: number;
  /** The resume time: the longest gap between confirms across the close, ms. */
  readonly resumeMs: number;
}

/** Medians of one client in one variant. */
export interface SummaryRow {
  readonly variant: Variant;
  readonly client: string;
  readonly runs: number;
  readonly messages: number;
  readonly msgsPerSec: number;
  /** msg/s of each round, in round order. */
  readonly perRound: readonly number[];
  readonly cpuMicrosPerMsg: number;
  readonly peakRssMiB: number;
  /** RSS before the first publish (Node, the client's modules, the connection), MiB. */
  readonly startRssMiB: number;
  /** Median over rounds of msgs/s ÷ the baseline's msgs/s in the same round and variant. */
  readonly ratioToBaseline: number;
  /** Median over rounds of CPU per message ÷ the baseline's in the same round and variant. */
  readonly cpuRatioToBaseline: number;
  /** Every run of this row left exactly the expected number of messages in the queue (or has no check). */
  readonly queueChecksPassed: boolean;
  readonly failedPublishes: number;
  /** Recovery only: medians of the resume time, and totals of lost and duplicated over the rounds. */
  readonly recovery?: {
    readonly resumeMs: number;
    readonly lost: number;
    readonly duplicated: number;
    readonly failed: number;
    readonly attempted: number;
  };
}

/** One of the goals, evaluated on the summary. */
export interface GoalResult {
  readonly id: string;
  readonly goal: string;
  readonly value: string;
  /** `null` when the runs needed to judge it were not part of this invocation. */
  readonly met: boolean | null;
  /** How far off a missed goal is, in words. */
  readonly shortfall?: string;
}

const msgsPerSec = (m: Measurement): number => m.messages / (m.elapsedMs / 1_000);
const cpuPerMsg = (m: Measurement): number => m.cpuMicros / m.messages;

/** Medians per (variant, client), in the order the runs first appear. */
export function summarise(runs: readonly RunRecord[]): SummaryRow[] {
  const keys: string[] = [];
  const groups = new Map<string, RunRecord[]>();
  for (const run of runs) {
    const key = `${run.variant}\u0000${run.client}`;
    if (!groups.has(key)) {
      keys.push(key);
      groups.set(key, []);
    }
    groups.get(key)?.push(run);
  }
  const baselineOf = (run: RunRecord): RunRecord | undefined =>
    runs.find((r) => r.round === run.round && r.variant === run.variant && r.client === BASELINE);
  return keys.map((key) => {
    const group = groups.get(key) as RunRecord[];
    const first = group[0] as RunRecord;
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (const run of group) {
      const base = baselineOf(run);
      if (base === undefined) continue;
      ratios.push(msgsPerSec(run.measurement) / msgsPerSec(base.measurement));
      cpuRatios.push(cpuPerMsg(run.measurement) / cpuPerMsg(base.measurement));
    }
    const scores = group.flatMap((run) => (run.score === undefined ? [] : [run.score]));
    const sum = (pick: (score: RecoveryScore) => number): number =>
      scores.reduce((total, score) => total + pick(score), 0);
    return {
      variant: first.variant,
      client: first.client,
      runs: group.length,
      messages: median(group.map((run) => run.measurement.messages)),
      msgsPerSec: median(group.map((run) => msgsPerSec(run.measurement))),
      perRound: group.map((run) => msgsPerSec(run.measurement)),
      cpuMicrosPerMsg: median(group.map((run) => cpuPerMsg(run.measurement))),
      peakRssMiB: median(group.map((run) => run.measurement.maxRssKiB / 1_024)),
      startRssMiB: median(group.map((run) => run.measurement.startRssKiB / 1_024)),
      ratioToBaseline: median(ratios),
      cpuRatioToBaseline: median(cpuRatios),
      queueChecksPassed: group.every((run) => run.queueCount === run.expectedCount),
      failedPublishes: group.reduce((total, run) => total + run.measurement.failed, 0),
      ...(scores.length === 0
        ? {}
        : {
            recovery: {
              resumeMs: median(scores.map((score) => score.resumeMs)),
              lost: sum((score) => score.lost),
              duplicated: sum((score) => score.duplicated),
              failed: sum((score) => score.failed),
              attempted: sum((score) => score.attempted),
            },
          }),
    };
  });
}

/** Scores recovery run `run`: `ids` are the message ids found in the queue afterwards. */
export function scoreRecovery(measurement: Measurement, run: string, ids: readonly string[]): RecoveryScore {
  const recovery = measurement.recovery;
  if (recovery === undefined) throw new Error('not a recovery measurement');
  const copies = new Map<string, number>();
  for (const id of ids) copies.set(id, (copies.get(id) ?? 0) + 1);
  const failed = new Set(recovery.failedIds);
  const confirmed = new Set(recovery.confirmedIds);
  let lost = 0;
  let duplicated = 0;
  let unconfirmedDelivered = 0;
  for (let n = 0; n < recovery.attempted; n += 1) {
    const id = messageId(run, n);
    const count = copies.get(id) ?? 0;
    if (count === 0 && !failed.has(id)) lost += 1;
    if (count > 1) duplicated += count - 1;
    if (count > 0 && !confirmed.has(id)) unconfirmedDelivered += 1;
  }
  return {
    attempted: recovery.attempted,
    failed: failed.size,
    lost,
    duplicated,
    unconfirmedDelivered,
    resumeMs: recovery.confirmGapMs,
  };
}

/** The recovery goal's bound: the first reconnect delay (jitter adds up to 30 %) plus 0.15 s. */
export function recoveryBoundMs(reconnectDelayMs: number): number {
  return Math.max(300, reconnectDelayMs + 150);
}

/** ferry's CPU per routed message may be at most this multiple of amqplib's in the same run (issue 15). */
const MAX_CPU_RATIO = 1.2;
/** ferry's peak RSS with 50,000 outstanding may be at most this multiple of amqplib's in the same run (issue 15). */
const MAX_OUTSTANDING_RSS_RATIO = 1.05;

/** Evaluates the goals for ferry against the summary. */
export function evaluateGoals(rows: readonly SummaryRow[], reconnectDelayMs: number): GoalResult[] {
  const row = (variant: Variant, client: string): SummaryRow | undefined =>
    rows.find((r) => r.variant === variant && r.client === client);
  const ratioGoal = (
    id: string,
    variant: Variant,
    client: string,
    minimum: number,
    goal: string,
    baselineName: string,
  ): GoalResult => {
    const r = row(variant, client);
    if (r === undefined || Number.isNaN(r.ratioToBaseline)) return { id, goal, value: 'not run', met: null };
    const met = r.ratioToBaseline >= minimum;
    return {
      id,
      goal,
      value: `${r.ratioToBaseline.toFixed(2)}× ${baselineName} (${fmt(r.msgsPerSec)} msg/s)`,
      met,
      ...(met
        ? {}
        : { shortfall: `${((1 - r.ratioToBaseline / minimum) * 100).toFixed(0)} % below the goal` }),
    };
  };
  const goals: GoalResult[] = [
    ratioGoal(
      'routed-memory',
      'routed',
      'ferry-memory',
      0.95,
      'routed, memory journal ≥ 0.95× amqplib pipelined msg/s',
      'amqplib',
    ),
  ];
  const cpu = row('routed', 'ferry-memory');
  const cpuGoal = `routed, memory journal CPU ≤ ${MAX_CPU_RATIO}× amqplib per message`;
  if (cpu === undefined || Number.isNaN(cpu.cpuRatioToBaseline)) {
    goals.push({
      id: 'routed-cpu',
      goal: cpuGoal,
      value: 'not run',
      met: null,
    });
  } else {
    const met = cpu.cpuRatioToBaseline <= MAX_CPU_RATIO;
    goals.push({
      id: 'routed-cpu',
      goal: cpuGoal,
      value: `${cpu.cpuRatioToBaseline.toFixed(2)}× (${cpu.cpuMicrosPerMsg.toFixed(1)} µs/msg)`,
      met,
      ...(met
        ? {}
        : {
            shortfall: `${((cpu.cpuRatioToBaseline / MAX_CPU_RATIO - 1) * 100).toFixed(0)} % over the goal`,
          }),
    });
  }
  goals.push(
    ratioGoal(
      'routed-sqlite',
      'routed',
      'ferry-sqlite',
      0.85,
      'routed, sqlite journal ≥ 0.85× amqplib',
      'amqplib',
    ),
    ratioGoal(
      'client-bound',
      'client-bound',
      'ferry-memory',
      1.0,
      'client-bound, memory journal ≥ 1.0× amqplib',
      'amqplib',
    ),
    ratioGoal(
      'sequential',
      'sequential',
      'ferry-memory',
      5,
      'naive sequential await ≥ 5× amqplib awaiting each confirm',
      'amqplib',
    ),
  );
  const outstanding = row('outstanding', 'ferry-memory');
  if (outstanding === undefined) {
    goals.push({
      id: 'outstanding-rss',
      goal: '50,000 outstanding: peak RSS ≤ 150 MB',
      value: 'not run',
      met: null,
    });
  } else {
    const mb = (outstanding.peakRssMiB * 1_048_576) / 1e6;
    const met = mb <= 150 && outstanding.messages >= 50_000;
    goals.push({
      id: 'outstanding-rss',
      goal: '50,000 outstanding: peak RSS ≤ 150 MB',
      value: `${mb.toFixed(0)} MB with ${fmt(outstanding.messages)} outstanding`,
      met: outstanding.messages >= 50_000 ? mb <= 150 : null,
      ...(met || outstanding.messages < 50_000 ? {} : { shortfall: `${(mb - 150).toFixed(0)} MB over` }),
    });
  }
  const outstandingBaseline = row('outstanding', 'amqplib');
  const rssGoal = `50,000 outstanding: peak RSS ≤ ${MAX_OUTSTANDING_RSS_RATIO}× amqplib's`;
  if (outstanding === undefined || outstandingBaseline === undefined) {
    goals.push({ id: 'outstanding-rss-ratio', goal: rssGoal, value: 'not run', met: null });
  } else {
    const ratio = outstanding.peakRssMiB / outstandingBaseline.peakRssMiB;
    // Below 50,000 held messages the baseline's start-up memory dominates: the ratio judges nothing.
    const met = outstanding.messages >= 50_000 ? ratio <= MAX_OUTSTANDING_RSS_RATIO : null;
    goals.push({
      id: 'outstanding-rss-ratio',
      goal: rssGoal,
      value: `${ratio.toFixed(2)}× (${outstanding.peakRssMiB.toFixed(0)} against ${outstandingBaseline.peakRssMiB.toFixed(0)} MiB)`,
      met,
      ...(met
        ? {}
        : { shortfall: `${((ratio / MAX_OUTSTANDING_RSS_RATIO - 1) * 100).toFixed(0)} % over the goal` }),
    });
  }
  const recovery = row('recovery', 'ferry-memory')?.recovery;
  const bound = recoveryBoundMs(reconnectDelayMs);
  if (recovery === undefined) {
    goals.push({
      id: 'recovery',
      goal: `recovery: resumes ≤ ${bound} ms, lost = 0`,
      value: 'not run',
      met: null,
    });
  } else {
    const met = recovery.resumeMs <= bound && recovery.lost === 0;
    goals.push({
      id: 'recovery',
      goal: `recovery after a forced close: resumes ≤ ${bound} ms (first delay ${reconnectDelayMs} ms), lost = 0`,
      value: `${recovery.resumeMs.toFixed(0)} ms, lost ${recovery.lost}, duplicated ${recovery.duplicated}`,
      met,
      ...(met
        ? {}
        : {
            shortfall:
              recovery.lost > 0
                ? `${recovery.lost} lost`
                : `${(recovery.resumeMs - bound).toFixed(0)} ms over`,
          }),
    });
  }
  return goals;
}

/** A number with thousands separators and no decimals. */
export function fmt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}
