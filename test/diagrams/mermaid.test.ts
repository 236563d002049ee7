import { describe, expect, it } from 'vitest';
import { and, assign, createMachine, fromPromise, not, or, setup, stateIn } from 'xstate';
import * as machines from '../../machines/index.js';
import { isStateMachine } from '../../src/diagrams/machine-sources.js';
import { escapeMermaidText, mermaidIds, toMermaid } from '../../src/diagrams/mermaid.js';

/** The diagram without its header, each line trimmed: what the assertions compare. */
function bodyLines(diagram: string): string[] {
  const [header, ...lines] = diagram.trimEnd().split('\n');
  expect(header).toBe('stateDiagram-v2');
  return lines.map((line) => line.trim());
}

/** Mermaid decodes `#<code>;` entities after parsing; the tests compare decoded labels. */
function decode(text: string): string {
  return text.replace(/#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
}

const SAFE_TEXT = /^(?:[\p{L}\p{N} .,_()[\]/+=!?'·-]|#\d+;)+$/u;
const ID = /^[A-Za-z0-9_]+$/;
const KEYWORDS = [
  'as',
  'class',
  'classdef',
  'click',
  'end',
  'hide',
  'href',
  'note',
  'root',
  'scale',
  'state',
];

/**
 * Checks a diagram against the conservative subset of Mermaid's stateDiagram-v2 grammar that `toMermaid`
 * is meant to emit (vetted against both of Mermaid's state-diagram lexers): state declarations and blocks,
 * `--` region separators, description lines, `[*]` markers, edges, one classDef and one class line.
 * Returns the problems found, each naming its line.
 */
function grammarProblems(diagram: string): string[] {
  const problems: string[] = [];
  const declared = new Set<string>();
  const blocks: string[] = [];
  const checkId = (id: string, where: string): void => {
    const bad =
      !ID.test(id) || KEYWORDS.includes(id.toLowerCase()) || /^default/i.test(id) || /direction/i.test(id);
    if (bad) problems.push(`${where}: unsafe id ${JSON.stringify(id)}`);
  };
  const checkText = (text: string, where: string): void => {
    if (!SAFE_TEXT.test(text) || /direction/i.test(text)) {
      problems.push(`${where}: unescaped text ${JSON.stringify(text)}`);
    }
  };
  bodyLines(diagram).forEach((line, index) => {
    const where = `line ${index + 2} ${JSON.stringify(line)}`;
    const state = /^state "([^"]*)" as (\S+)( \{)?$/.exec(line);
    const edge = /^(\S+) --> (\S+)(?: : (.+))?$/.exec(line);
    const description = /^(\S+) : (.+)$/.exec(line);
    if (state !== null) {
      const [, title = '', id = '', opens] = state;
      checkText(title, where);
      checkId(id, where);
      if (declared.has(id)) problems.push(`${where}: ${id} declared twice`);
      declared.add(id);
      if (opens !== undefined) blocks.push(id);
    } else if (line === '}') {
      if (blocks.pop() === undefined) problems.push(`${where}: unbalanced }`);
    } else if (line === '--') {
      if (blocks.length === 0) problems.push(`${where}: region separator outside a block`);
    } else if (edge !== null) {
      const [, source = '', target = '', label] = edge;
      for (const id of [source, target]) {
        if (id === '[*]') continue;
        checkId(id, where);
        if (!declared.has(id)) problems.push(`${where}: ${id} used before it is declared`);
      }
      const pseudo = source === '[*]' || target === '[*]';
      if (pseudo && blocks.length === 0) problems.push(`${where}: [*] outside a block`);
      if (!pseudo && blocks.length > 0) problems.push(`${where}: transition inside a block`);
      if (label !== undefined) checkText(label, where);
    } else if (description !== null) {
      const [, id = '', text = ''] = description;
      checkId(id, where);
      if (!declared.has(id)) problems.push(`${where}: ${id} described before it is declared`);
      checkText(text, where);
    } else if (!/^classDef \w+ [\w:,. -]+$/.test(line) && !/^class \w+(?:,\w+)* \w+$/.test(line)) {
      problems.push(`${where}: not in the vetted grammar`);
    }
  });
  if (blocks.length > 0) problems.push(`unclosed blocks: ${blocks.join(', ')}`);
  return problems;
}

const makeDoor = () =>
  setup({ guards: { ready: () => true }, delays: { pause: 100 } }).createMachine({
    id: 'door',
    initial: 'closed',
    states: {
      closed: { on: { open: { guard: 'ready', target: 'opened' } } },
      opened: {
        initial: 'swinging',
        states: { swinging: { after: { pause: 'still' } }, still: { type: 'final' } },
        onDone: 'gone',
      },
      gone: { type: 'final' },
    },
  });
const door = makeDoor();

const player = createMachine({
  id: 'player',
  type: 'parallel',
  states: {
    audio: { initial: 'muted', states: { muted: { on: { unmute: 'loud' } }, loud: {} } },
    video: {
      initial: 'off',
      states: {
        off: { on: { play: 'on' } },
        on: {
          type: 'parallel',
          states: { picture: {}, subtitles: {} },
          on: { stop: '#player.video.off' },
        },
      },
    },
  },
});

const loader = setup({
  actors: { fetcher: fromPromise(async () => 'page') },
}).createMachine({
  id: 'loader',
  initial: 'loading',
  states: {
    loading: {
      invoke: { src: 'fetcher', id: 'fetch', onDone: 'loaded', onError: 'failed' },
      after: { 5000: 'failed' },
    },
    loaded: { type: 'final' },
    failed: { invoke: { src: 'fetcher', onDone: 'loaded' } },
  },
});

const gatekeeper = setup({
  guards: { ready: () => true, open: () => true, allowed: (_, _params: { level: number }) => true },
}).createMachine({
  id: 'gate',
  initial: 'shut',
  states: {
    shut: {
      on: {
        a: { guard: and(['ready', not('open')]), target: 'wide' },
        b: { guard: or(['ready', 'open']), target: 'wide' },
        c: { guard: stateIn('#gate.wide'), target: 'wide' },
        d: { guard: () => true, target: 'wide' },
        e: { guard: { type: 'allowed', params: { level: 2 } }, target: 'wide' },
      },
      always: { guard: 'open', target: 'wide' },
    },
    wide: {},
  },
});

const counter = setup({ actions: { count: () => undefined, log: () => undefined } }).createMachine({
  id: 'counter',
  on: { tick: { actions: 'count' } },
  initial: 'idle',
  states: {
    idle: {
      tags: ['quiet', 'ready'],
      entry: 'log',
      exit: ['log', assign({})],
      on: { poke: { actions: ['count', 'log'] }, nudge: { guard: () => false } },
    },
  },
});

describe('toMermaid', () => {
  it('nests compound states, marks initial and final states and labels transitions', () => {
    expect(bodyLines(toMermaid(door))).toEqual([
      'state "door" as door {',
      'state "closed" as closed',
      'state "opened" as opened {',
      'state "swinging" as opened_swinging',
      'state "still" as opened_still',
      '[*] --> opened_swinging',
      'opened_still --> [*]',
      '}',
      'state "gone" as gone',
      '[*] --> closed',
      'gone --> [*]',
      '}',
      'closed --> opened : open [ready]',
      'opened --> gone : done',
      'opened_swinging --> opened_still : after pause',
    ]);
  });

  it('separates parallel regions with -- and keeps every region as a named composite state', () => {
    expect(bodyLines(toMermaid(player))).toEqual([
      'state "player" as player {',
      'state "audio" as audio {',
      'state "muted" as audio_muted',
      'state "loud" as audio_loud',
      '[*] --> audio_muted',
      '}',
      '--',
      'state "video" as video {',
      'state "off" as video_off',
      'state "on" as video_on {',
      'state "picture" as video_on_picture',
      '--',
      'state "subtitles" as video_on_subtitles',
      '}',
      '[*] --> video_off',
      '}',
      '}',
      'audio_muted --> audio_loud : unmute',
      'video_off --> video_on : play',
      'video_on --> video_off : stop',
    ]);
  });

  it('shows invocations and shortens actor, timer and completion events', () => {
    const lines = bodyLines(toMermaid(loader));
    expect(lines).toContain('loading : invoke fetcher as fetch');
    expect(lines).toContain('loading --> loaded : done#58; fetch');
    expect(lines).toContain('loading --> failed : error#58; fetch');
    expect(lines).toContain('loading --> failed : after 5000');
    const inline = lines.filter((line) => line.startsWith('failed : invoke fetcher as '));
    expect(inline, 'an invocation without an id is named by XState').toHaveLength(1);
    const generatedId = inline[0]!.slice('failed : invoke fetcher as '.length);
    expect(lines).toContain(`failed --> loaded : done#58; ${generatedId}`);
  });

  it('names guards, higher-order guards included, and labels eventless transitions `always`', () => {
    expect(
      bodyLines(toMermaid(gatekeeper)).filter((line) => line.includes('-->') && !line.includes('[*]')),
    ).toEqual([
      'shut --> wide : a [and(ready, not(open))]',
      'shut --> wide : b [or(ready, open)]',
      `shut --> wide : c [in(${escapeMermaidText('"#gate.wide"')})]`,
      'shut --> wide : d [inline]',
      'shut --> wide : e [allowed]',
      'shut --> wide : always [open]',
    ]);
  });

  it('lists tags, entry/exit actions and targetless transitions inside the state, root ones in a box', () => {
    expect(bodyLines(toMermaid(counter))).toEqual([
      'state "counter" as counter {',
      'state "whole machine" as counter_facts',
      'counter_facts : tick / count',
      'state "idle" as idle',
      'idle : tags quiet, ready',
      'idle : entry log',
      'idle : exit log, assign',
      'idle : poke / count, log',
      'idle : nudge [inline]',
      '[*] --> idle',
      '}',
      'classDef stateFacts fill:none,stroke-dasharray:4 4',
      'class counter_facts stateFacts',
    ]);
  });

  it('marks history states with their kind and default target', () => {
    const machine = createMachine({
      id: 'editor',
      initial: 'editing',
      states: {
        editing: {
          initial: 'text',
          states: { text: {}, image: {}, resume: { type: 'history', history: 'deep', target: 'image' } },
          on: { preview: 'previewing' },
        },
        previewing: { on: { back: '#editor.editing.resume' } },
      },
    });
    const lines = bodyLines(toMermaid(machine));
    expect(lines).toContain('editing_resume : history deep, default image');
    expect(lines).toContain('previewing --> editing_resume : back');
  });

  it('leaves the timers XState adds for `after` out of entry and exit actions', () => {
    const lines = bodyLines(toMermaid(door));
    expect(lines.filter((line) => / : (entry|exit) /.test(line))).toEqual([]);
  });

  it('gives every state a unique id Mermaid cannot misread, whatever the keys', () => {
    const awkward = createMachine({
      id: 'odd machine',
      initial: 'default',
      states: {
        default: {},
        state: {},
        note: {},
        end: {},
        'a-b': {},
        a_b: {},
        a: { initial: 'b', states: { b: {}, start: {} } },
        a_start: {},
        directionLR: {},
        'odd machine': {},
      },
    });
    const ids = [...mermaidIds(awkward).states.values()];
    expect(new Set(ids).size).toBe(ids.length);
    expect(grammarProblems(toMermaid(awkward))).toEqual([]);
    // `[*]` inside composite `a` becomes Mermaid's state `a_start`, so no state may take that id.
    expect(mermaidIds(awkward).states.get(awkward.root.states.a_start!)).not.toBe('a_start');
  });

  it('escapes every character Mermaid gives a meaning to, reversibly', () => {
    const nasty = 'job:done; #1 "quoted" <b>{x}</b> 50% & *star* `tick` set direction LR\nnext';
    const escaped = escapeMermaidText(nasty);
    expect(escaped).toMatch(SAFE_TEXT);
    expect(escaped).not.toMatch(/direction/i);
    expect(decode(escaped)).toBe(nasty);
    const machine = createMachine({ id: 'x', initial: 'a', states: { a: { on: { [nasty]: 'b' } }, b: {} } });
    expect(grammarProblems(toMermaid(machine))).toEqual([]);
  });

  it('is deterministic: the same definition always gives the same text', () => {
    expect(toMermaid(makeDoor())).toBe(toMermaid(door));
    expect(toMermaid(door)).toBe(toMermaid(door));
  });

  const ferryMachines = Object.entries(machines).filter(([, value]) => isStateMachine(value));

  it.each([
    ['door', door],
    ['player', player],
    ['loader', loader],
    ['gatekeeper', gatekeeper],
    ['counter', counter],
    ...ferryMachines,
  ])('emits only the vetted Mermaid subset for %s', (_, machine) => {
    expect(isStateMachine(machine)).toBe(true);
    if (!isStateMachine(machine)) return;
    expect(grammarProblems(toMermaid(machine))).toEqual([]);
  });

  it('finds the ferry machines to check', () => {
    expect(ferryMachines.map(([name]) => name)).toContain('connectionMachine');
  });
});
