/**
 * `octa id`, `octa lattice` and `--help`: argument parsing and output of the CLI, run through its
 * `main` in this process (no spawn: exit codes of the built program are checked in args-cli).
 */
import { describe, expect, it } from 'vitest';
import { latticeToIndex64, latticeToNeighbors } from '../../src/lattice/index.js';
import { readVectors } from '../vectors.js';
import { octaInProcess as octa } from './run.js';

describe('octa id', () => {
  it('encodes like the crate CLI (defaults frame 0, tier 0, LOD 5)', async () => {
    const cases = readVectors<{
      x: number;
      y: number;
      z: number;
      value: string;
      hex: string;
      bech32m: string;
    }>('index64_cli.jsonl');
    for (const c of cases.slice(0, 8)) {
      const r = await octa(['id', 'encode', String(c.x), String(c.y), String(c.z), '--json']);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        kind: 'index64',
        value: c.value,
        hex: c.hex,
        bech32m: c.bech32m,
      });
    }
  });

  it('decodes decimal, hex and Bech32m to the same fields', async () => {
    const id = latticeToIndex64(100, 200, 300, { frame: 7, lod: 9 });
    const forms = [id.toString(), `0x${id.toString(16)}`];
    const enc = JSON.parse(
      (await octa(['id', 'encode', '100', '200', '300', '--frame', '7', '--lod', '9', '--json'])).stdout,
    );
    forms.push(enc.bech32m);
    for (const f of forms) {
      const r = await octa(['id', 'decode', f, '--json']);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        kind: 'index64',
        frame: 7,
        tier: 0,
        lod: 9,
        x: 100,
        y: 200,
        z: 300,
        value: id.toString(),
      });
    }
  });

  it('every kind; hilbert64 has no bech32m', async () => {
    const h = JSON.parse(
      (await octa(['id', 'encode', '1', '2', '3', '--kind', 'hilbert64', '--json'])).stdout,
    );
    expect(h.kind).toBe('hilbert64');
    expect(h.bech32m).toBeUndefined();
    const r = JSON.parse(
      (await octa(['id', 'encode', '-3', '5', '7', '--kind', 'route64', '--tier', '2', '--json'])).stdout,
    );
    expect(r.bech32m.startsWith('r3d11')).toBe(true);
    expect(JSON.parse((await octa(['id', 'decode', r.bech32m, '--json'])).stdout)).toMatchObject({
      kind: 'route64',
      tier: 2,
      x: -3,
      y: 5,
      z: 7,
    });
    const g = JSON.parse(
      (await octa(['id', 'encode', '2', '4', '6', '--kind', 'galactic128', '--lod', '40', '--json'])).stdout,
    );
    expect(JSON.parse((await octa(['id', 'decode', g.value, '--json'])).stdout)).toMatchObject({
      kind: 'galactic128',
      lod: 40,
      x: 2,
      y: 4,
      z: 6,
    });
  });

  it('bad arguments exit 2 with one line and nothing on stdout', async () => {
    for (const args of [
      ['id', 'encode', '1', '2', '3', '--lod', '16', '--json'],
      ['id', 'encode', '1', '2', '--json'],
      ['id', 'encode', '1', '2', 'x', '--json'],
      ['id', 'encode', '70000', '2', '3', '--json'],
      ['id', 'encode', '0', '1', '0', '--kind', 'route64', '--json'],
      ['id', 'encode', '1', '2', '3', '--kind', 'nope'],
      ['id', 'decode', 'i3d11sqz3yjfxjfyj2mncl08', '--json'],
      ['id', 'decode', '123'],
      ['lattice', 'neighbors', '1', '2', '3', '--json'],
      ['nosuchcommand'],
    ]) {
      const r = await octa(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n').length, r.stderr).toBe(1);
    }
  });

  it('--help works on every command', async () => {
    for (const args of [
      [],
      ['id'],
      ['id', 'encode'],
      ['id', 'decode'],
      ['lattice'],
      ['lattice', 'snap'],
      ['ranges'],
    ]) {
      const r = await octa([...args, '--help']);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('octa');
    }
  });
});

describe('octa lattice', () => {
  it('neighbours, children, parent and snap as JSON', async () => {
    const n = await octa(['lattice', 'neighbors', '-1', '-1', '-1', '--json']);
    expect(JSON.parse(n.stdout)).toEqual(latticeToNeighbors(-1, -1, -1));
    expect(JSON.parse((await octa(['lattice', 'children', '1', '1', '1', '--json'])).stdout)).toHaveLength(8);
    expect(JSON.parse((await octa(['lattice', 'parent', '9830', '4930', '7420', '--json'])).stdout)).toEqual([
      4915, 2465, 3709,
    ]);
    expect(JSON.parse((await octa(['lattice', 'snap', '-1', '0', '0', '--json'])).stdout)).toEqual([
      -2, 0, 0,
    ]);
    expect(
      JSON.parse((await octa(['lattice', 'snap', '1', '2', '3', '--resolution', '1', '--json'])).stdout),
    ).toEqual([2, 4, 6]);
  });
});
