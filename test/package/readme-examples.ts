/** The TypeScript examples of a Markdown document: every fenced block whose info string starts with `ts`. */
export interface Example {
  /** The block's info string after `ts` (e.g. `nestjs`), trimmed. */
  readonly tag: string;
  readonly code: string;
}

const FENCE = /^```ts([^\n]*)\n([\s\S]*?)^```$/gm;

/** Every TypeScript example of `markdown`, in order. */
export function readmeExamples(markdown: string): Example[] {
  return [...markdown.matchAll(FENCE)].map((match) => ({
    tag: (match[1] ?? '').trim(),
    code: match[2] ?? '',
  }));
}
