import { describe, expect, it } from 'vitest';
import {
  bech32mToGalactic128,
  bech32mToIndex64,
  bech32mToRoute64,
  galactic128ToBech32m,
  galactic128ToLattice,
  hilbert64ToIndex64,
  hilbert64ToLattice,
  index64ToBech32m,
  index64ToHilbert64,
  index64ToLattice,
  latticeToChildren,
  latticeToGalactic128,
  latticeToHilbert64,
  latticeToIndex64,
  latticeToNeighbors,
  latticeToParent,
  latticeToRoute64,
  route64ToBech32m,
  route64ToLattice,
  snapToLattice,
} from '../../src/lattice/index.js';
import { readVectors } from '../vectors.js';

interface IdCase {
  kind?: string;
  frame: number;
  tier: number;
  lod: number;
  x: number;
  y: number;
  z: number;
  value: string;
  hex: string;
  bech32m?: string;
  scale_mant?: number;
  attr_usr?: number;
}

describe('index64_cli.jsonl (from the crate CLI)', () => {
  const cases = readVectors<IdCase>('index64_cli.jsonl');
  it('has the 300 cases', () => expect(cases.length).toBe(300));
  it('encodes, decodes and formats every case bit for bit', () => {
    for (const c of cases) {
      const id = latticeToIndex64(c.x, c.y, c.z, { frame: c.frame, tier: c.tier, lod: c.lod });
      expect(id.toString()).toBe(c.value);
      expect(`0x${id.toString(16).padStart(16, '0')}`).toBe(c.hex);
      expect(index64ToBech32m(id)).toBe(c.bech32m);
      expect(bech32mToIndex64(c.bech32m!)).toBe(BigInt(c.value));
      expect(index64ToLattice(BigInt(c.value))).toEqual({
        frame: c.frame,
        tier: c.tier,
        lod: c.lod,
        x: c.x,
        y: c.y,
        z: c.z,
      });
    }
  });
});

describe('identifiers.jsonl', () => {
  const cases = readVectors<IdCase>('identifiers.jsonl');
  const byKind = (k: string) => cases.filter((c) => c.kind === k);
  it('covers every kind', () => {
    expect(byKind('index64').length).toBeGreaterThan(0);
    expect(byKind('hilbert64').length).toBeGreaterThan(0);
    expect(byKind('route64').length).toBeGreaterThan(0);
    expect(byKind('galactic128').length).toBeGreaterThan(0);
  });
  it('Index64', () => {
    for (const c of byKind('index64')) {
      const id = latticeToIndex64(c.x, c.y, c.z, c);
      expect(id.toString()).toBe(c.value);
      expect(index64ToBech32m(id)).toBe(c.bech32m);
      expect(bech32mToIndex64(c.bech32m!)).toBe(id);
      expect(index64ToLattice(id)).toEqual({
        frame: c.frame,
        tier: c.tier,
        lod: c.lod,
        x: c.x,
        y: c.y,
        z: c.z,
      });
    }
  });
  it('Hilbert64', () => {
    for (const c of byKind('hilbert64')) {
      const id = latticeToHilbert64(c.x, c.y, c.z, c);
      expect(id.toString()).toBe(c.value);
      expect(`0x${id.toString(16)}`).toBe(c.hex);
      expect(hilbert64ToLattice(id)).toEqual({
        frame: c.frame,
        tier: c.tier,
        lod: c.lod,
        x: c.x,
        y: c.y,
        z: c.z,
      });
      const i64 = latticeToIndex64(c.x, c.y, c.z, c);
      expect(index64ToHilbert64(i64)).toBe(id);
      expect(hilbert64ToIndex64(id)).toBe(i64);
    }
  });
  it('Route64', () => {
    for (const c of byKind('route64')) {
      const id = latticeToRoute64(c.x, c.y, c.z, { tier: c.tier });
      expect(id.toString()).toBe(c.value);
      expect(route64ToBech32m(id)).toBe(c.bech32m);
      expect(bech32mToRoute64(c.bech32m!)).toBe(id);
      expect(route64ToLattice(id)).toEqual({ tier: c.tier, x: c.x, y: c.y, z: c.z });
    }
  });
  it('Galactic128', () => {
    for (const c of byKind('galactic128')) {
      const opts = {
        frame: c.frame,
        scaleMant: c.scale_mant!,
        tier: c.tier,
        lod: c.lod,
        attrUsr: c.attr_usr!,
      };
      const id = latticeToGalactic128(c.x, c.y, c.z, opts);
      expect(id.toString()).toBe(c.value);
      expect(`0x${id.toString(16).padStart(32, '0')}`).toBe(c.hex);
      expect(galactic128ToBech32m(id)).toBe(c.bech32m);
      expect(bech32mToGalactic128(c.bech32m!)).toBe(id);
      expect(galactic128ToLattice(id)).toEqual({ ...opts, version: 1, x: c.x, y: c.y, z: c.z });
    }
  });
});

describe('lattice.jsonl', () => {
  type Row = {
    op: string;
    x: number;
    y: number;
    z: number;
    px: number;
    py: number;
    pz: number;
    resolution: number;
  } & Record<string, unknown>;
  const rows = readVectors<Row>('lattice.jsonl');
  const ops = (op: string) => rows.filter((r) => r.op === op);
  it('neighbours in the crate order', () => {
    expect(ops('neighbors').length).toBeGreaterThan(0);
    for (const r of ops('neighbors')) expect(latticeToNeighbors(r.x, r.y, r.z)).toEqual(r.neighbors);
  });
  it('BCC children', () => {
    expect(ops('children').length).toBeGreaterThan(0);
    for (const r of ops('children')) expect(latticeToChildren(r.x, r.y, r.z)).toEqual(r.children);
  });
  it('BCC parent', () => {
    expect(ops('parent').length).toBeGreaterThan(0);
    for (const r of ops('parent')) expect(latticeToParent(r.x, r.y, r.z)).toEqual(r.parent);
  });
  it('snap (Rust rounding, ties to even)', () => {
    expect(ops('snap').length).toBeGreaterThan(0);
    for (const r of ops('snap')) {
      expect(snapToLattice(r.px, r.py, r.pz, { resolution: r.resolution }), JSON.stringify(r)).toEqual(
        r.lattice,
      );
    }
  });
});
