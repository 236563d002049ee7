/**
 * The fold: the one place that turns journal events into message state. Every backend uses it, at
 * open, while claiming, and in the `ferry journal` CLI, so a journal means the same thing everywhere.
 *
 * Each event carries what the message machine decided (attempts, failure, drawn delay, generator state,
 * deadlines), so folding is recording, not re-deciding: replay runs none of the machine's effects and
 * cannot drift from what the live actor did.
 */
import type { OutboundMessage } from '../message/outbound-message.js';
import type { JournalEvent, MessageRecord, PendingMessage, UnfinishedState } from './journal.js';

/** The message id an event is about. */
export function eventMessageId(event: JournalEvent): string {
  return event.type === 'accepted' ? event.message.messageId : event.messageId;
}

/** Whether an event ends its message's life in the journal. */
export function isFinishing(event: JournalEvent): boolean {
  return event.type === 'confirmed' || event.type === 'dead-lettered';
}

/**
 * Applies one event to one message's record. Pure. An event for a message without a record (never
 * accepted here, or already compacted) yields `undefined`: late outcomes are dropped, not invented.
 */
export function applyEvent(
  record: MessageRecord | undefined,
  event: JournalEvent,
): MessageRecord | undefined {
  if (event.type === 'accepted') {
    return {
      message: event.message,
      state: 'pending',
      attempts: 0,
      lastFailure: null,
      random: null,
      nextDelayMs: null,
      retryAt: null,
      deadLetterFailures: 0,
    };
  }
  if (record === undefined) return undefined;
  switch (event.type) {
    case 'failed':
      return {
        ...record,
        state: 'retrying',
        attempts: event.attempts,
        lastFailure: event.failure,
        random: event.random ?? record.random,
        // A failure ends whatever timer ran; the next `retry-scheduled` or `parked` starts one.
        retryAt: null,
      };
    case 'retry-scheduled':
      return {
        ...record,
        state: 'retrying',
        random: event.random,
        nextDelayMs: event.delayMs,
        retryAt: event.retryAt,
      };
    case 'parked':
      return {
        ...record,
        state: 'parked',
        deadLetterFailures: event.deadLetterFailures,
        retryAt: event.retryAt,
      };
    case 'confirmed':
      return { ...record, state: 'confirmed', retryAt: null };
    case 'dead-lettered':
      return { ...record, state: 'dead-lettered', retryAt: null };
  }
}

/** Folds one message's events, in journal order. */
export function foldMessage(events: Iterable<JournalEvent>): MessageRecord | undefined {
  let record: MessageRecord | undefined;
  for (const event of events) record = applyEvent(record, event);
  return record;
}

/**
 * Events whose fold is `record`, stamped `at`: a message written again from what is known of it (a
 * shared journal re-registering what it holds under a new ownership).
 */
export function recordEvents(record: MessageRecord, at: number): JournalEvent[] {
  const messageId = record.message.messageId;
  const { random, nextDelayMs, retryAt, deadLetterFailures, lastFailure } = record;
  const events: JournalEvent[] = [{ type: 'accepted', message: record.message }];
  const parked = (): JournalEvent => ({
    type: 'parked',
    messageId,
    at,
    deadLetterFailures,
    retryAt: retryAt ?? at,
  });
  const scheduled = (random: number, delayMs: number): JournalEvent => ({
    type: 'retry-scheduled',
    messageId,
    delayMs,
    retryAt: retryAt ?? at,
    random,
    at,
  });
  // Each event sets what it carries outright, so the last setter of each field decides: the earlier
  // events only restore what the last ones leave as it was.
  if (deadLetterFailures > 0 && record.state !== 'parked') events.push(parked());
  if (nextDelayMs !== null && random !== null) events.push(scheduled(random, nextDelayMs));
  if (lastFailure !== null) {
    events.push({
      type: 'failed',
      messageId,
      attempts: record.attempts,
      failure: lastFailure,
      at,
      ...(random === null ? {} : { random }),
    });
  }
  if (record.state === 'parked') events.push(parked());
  else if (retryAt !== null && random !== null) events.push(scheduled(random, nextDelayMs ?? 0));
  return events;
}

/** Counts of finished messages, since the journal was created. */
export interface FinishedCounts {
  confirmed: number;
  deadLettered: number;
}

/**
 * A message's folded record; for a message whose only event is `accepted`, the message itself. Most
 * messages are confirmed without another event, so most never need a record of their own: one
 * object less per message held.
 */
type Entry = MessageRecord | OutboundMessage;

function isRecord(entry: Entry): entry is MessageRecord {
  return 'state' in entry;
}

function recordOf(entry: Entry): MessageRecord {
  return isRecord(entry)
    ? entry
    : (applyEvent(undefined, { type: 'accepted', message: entry }) as MessageRecord);
}

/**
 * The fold of a whole journal: unfinished messages by id, in acceptance order. Finished messages are
 * dropped as they finish (the in-memory side of compaction) and only counted.
 */
export class JournalState {
  private readonly entries = new Map<string, Entry>();
  readonly finished: FinishedCounts = { confirmed: 0, deadLettered: 0 };

  /** Applies an event, with the same result as {@link applyEvent} on the message's record. */
  apply(event: JournalEvent): void {
    if (event.type === 'accepted') {
      const { message } = event;
      const { entries } = this;
      const size = entries.size;
      entries.set(message.messageId, message);
      // Re-accepting an id moves it to the back, as a fresh message would be. Checked after the set,
      // so that a new id (nearly every one) costs one hash lookup, not two.
      if (entries.size === size) {
        entries.delete(message.messageId);
        entries.set(message.messageId, message);
      }
      return;
    }
    const id = event.messageId;
    if (event.type === 'confirmed' || event.type === 'dead-lettered') {
      if (!this.entries.delete(id)) return;
      if (event.type === 'confirmed') this.finished.confirmed += 1;
      else this.finished.deadLettered += 1;
      return;
    }
    const entry = this.entries.get(id);
    if (entry !== undefined) this.entries.set(id, applyEvent(recordOf(entry), event) as MessageRecord);
  }

  /** Takes over records folded elsewhere (read from a store, claimed from another instance). */
  adopt(records: Iterable<MessageRecord>): void {
    for (const record of records) this.entries.set(record.message.messageId, record);
  }

  /** Drops records without counting them finished: they are no longer this journal's to track. */
  forget(messageIds: Iterable<string>): void {
    for (const id of messageIds) this.entries.delete(id);
  }

  /** Whether the message is unfinished here. */
  has(messageId: string): boolean {
    return this.entries.has(messageId);
  }

  get(messageId: string): PendingMessage | undefined {
    const entry = this.entries.get(messageId);
    return entry === undefined ? undefined : asPending(recordOf(entry));
  }

  /** Unfinished messages. */
  get size(): number {
    return this.entries.size;
  }

  /** Unfinished messages, in acceptance order. */
  pending(): PendingMessage[] {
    const pending: PendingMessage[] = [];
    for (const entry of this.entries.values()) pending.push(asPending(recordOf(entry)));
    return pending;
  }

  /** Unfinished messages by state. */
  countByState(): Record<UnfinishedState, number> {
    const counts: Record<UnfinishedState, number> = { pending: 0, retrying: 0, parked: 0 };
    for (const entry of this.entries.values()) {
      counts[isRecord(entry) ? (entry.state as UnfinishedState) : 'pending'] += 1;
    }
    return counts;
  }
}

/**
 * What folding a message's `accepted` event alone gives: the record of a message nobody has tried to
 * publish yet, as {@link JournalState.pending} returns it.
 */
export function acceptedPending(message: OutboundMessage): PendingMessage {
  return asPending(applyEvent(undefined, { type: 'accepted', message }) as MessageRecord);
}

/** Folds a whole journal. */
export function foldJournal(events: Iterable<JournalEvent>): JournalState {
  const state = new JournalState();
  for (const event of events) state.apply(event);
  return state;
}

function asPending(record: MessageRecord): PendingMessage {
  // Field by field rather than a spread: a spread that adds a key takes V8's slow path (0.66 µs a
  // record, measured), and a relay makes one of these for every row it claims. A field missing here
  // is a type error, since every field of a `PendingMessage` is required.
  return {
    message: record.message,
    state: record.state as UnfinishedState,
    attempts: record.attempts,
    lastFailure: record.lastFailure,
    random: record.random,
    nextDelayMs: record.nextDelayMs,
    retryAt: record.retryAt,
    deadLetterFailures: record.deadLetterFailures,
    parked: record.state === 'parked',
  };
}
