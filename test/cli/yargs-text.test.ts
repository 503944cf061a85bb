/**
 * cli/yargs.ts measures and wraps plain-ASCII help text itself instead of loading string-width and
 * wrap-ansi (issue 16's start-up): its answers must be the packages' own, for every text cliui can
 * hand it, or octa's help would differ from yargs's. Compared here with the very modules cliui's
 * entry imports, on seeded random texts, edge cases and text with escapes or non-ASCII characters
 * (which go to the packages themselves).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { stripAnsi, textWidth, wrapText } from '../../cli/yargs.js';

const fromCliui = createRequire(createRequire(import.meta.resolve('yargs')).resolve('cliui'));
const pkg = <T>(name: string) => (fromCliui(name) as { default: T }).default;
const stringWidth = pkg<(text: string) => number>('string-width');
const wrapAnsi = pkg<(text: string, columns: number, options?: object) => string>('wrap-ansi');
const realStripAnsi = pkg<(text: string) => string>('strip-ansi');

/** A seeded generator (mulberry32), so a failure names a text that can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Text of words (ASCII and a few signs), runs of spaces and line breaks, some words rows long. */
function text(next: () => number): string {
  const parts: string[] = [];
  const n = Math.floor(next() * 14);
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < 0.15) parts.push(' '.repeat(1 + Math.floor(next() * 3)));
    else if (r < 0.22) parts.push(next() < 0.5 ? '\n' : '\r\n');
    else {
      const len = Math.floor(next() * (next() < 0.2 ? 60 : 9));
      let w = '';
      for (let k = 0; k < len; k++) {
        w +=
          next() < 0.05
            ? SIGNS[Math.floor(next() * SIGNS.length)]
            : String.fromCharCode(0x21 + Math.floor(next() * 94));
      }
      parts.push(w, ' ');
    }
  }
  return parts.join(next() < 0.3 ? '  ' : '');
}

/** The non-ASCII signs cli/yargs.ts counts as one column. */
const SIGNS = [...'…±×÷°·²³→←≤≥≠−–—'];
const EDGES = [
  '',
  ' ',
  '   ',
  'a',
  'a ',
  ' a',
  'ab cd',
  'abcdefghij',
  'abc defghijklmnop q',
  'x\n\ny',
  ' \n ',
  '--lake  DIR',
];
const NOT_PLAIN = [
  '\u001b[1mbold\u001b[22m text',
  'naïve café',
  '漢字 テキスト',
  'emoji 🎉 party',
  'tab\there',
];

describe("cli/yargs.ts's help-text functions", () => {
  it("wrapText gives wrap-ansi's hard wrap for random and edge texts at widths from 1 to 40", () => {
    const next = random(16);
    const texts = [...EDGES, ...NOT_PLAIN, ...Array.from({ length: 150 }, () => text(next))];
    for (const t of texts) {
      for (const columns of [1, 2, 3, 4, 5, 7, 9, 12, 16, 20, 25, 31, 40]) {
        expect(wrapText(t, columns, { hard: true }), `${JSON.stringify(t)} at ${columns}`).toBe(
          wrapAnsi(t, columns, { hard: true }),
        );
      }
    }
  });

  it('wrapText hands options other than { hard: true } to wrap-ansi', () => {
    const t = 'a  b   cdefghijklmnop  ';
    for (const options of [
      undefined,
      {},
      { hard: false },
      { hard: true, trim: false },
      { wordWrap: false },
    ]) {
      expect(wrapText(t, 5, options as { hard?: boolean })).toBe(wrapAnsi(t, 5, options));
    }
  });

  it("textWidth and stripAnsi give string-width's and strip-ansi's answers", () => {
    const next = random(61);
    for (const t of [
      ...EDGES,
      ...NOT_PLAIN,
      '\u009b31mred',
      ...Array.from({ length: 200 }, () => text(next)),
    ]) {
      expect(textWidth(t), JSON.stringify(t)).toBe(stringWidth(t));
      expect(stripAnsi(t), JSON.stringify(t)).toBe(realStripAnsi(t));
    }
  });
});
