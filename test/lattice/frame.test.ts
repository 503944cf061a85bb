import { describe, expect, it } from 'vitest';
import {
  checkFrame,
  ECEF_DEFAULT_EDGE,
  ecefToEnu,
  ecefToGeodetic,
  enuToEcef,
  type Frame,
  frameFromJSON,
  frameToGeodetic,
  frameToIndex64,
  frameToIndex64Batch,
  frameToJSON,
  frameToLattice,
  frameToSpec,
  geodeticToEcef,
  geodeticToEcefBatch,
  geodeticToEnuBatch,
  geodeticToFrame,
  geodeticToFrameBatch,
  index64ToFrame,
  index64ToHilbert64,
  index64ToLattice,
  isBccPoint,
  latticeToFrame,
  latticeUnit,
  OctaError,
  parseFrameSpec,
  REJECT_NON_FINITE,
  REJECT_OUT_OF_DOMAIN,
  snapToLattice,
  WGS84_A,
  WGS84_B,
} from '../../src/lattice/index.js';
import { prng } from '../prng.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof OctaError) return e.code;
    throw e;
  }
  return undefined;
}

function errorOf(f: () => unknown): OctaError {
  try {
    f();
  } catch (e) {
    if (e instanceof OctaError) return e;
    throw e;
  }
  throw new Error('expected an OctaError');
}

const dist = (a: number[], b: number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
const H = 2 ** 23;
const ECEF: Frame = { id: 0, kind: 'ecef', origin: [-H, -H, -H], edge: 2 ** 24 };
const ENU: Frame = {
  id: 3,
  kind: 'enu',
  origin: [-2048, -2048, -2048],
  edge: 4096,
  anchor: { lat: 47.3769, lon: 8.5417, h: 408 },
};
const CART: Frame = { id: 7, kind: 'cartesian', origin: [635000, 849000, 400], edge: 4096 };

describe('parseFrameSpec / frameToSpec', () => {
  it('parses every accepted form', () => {
    expect(parseFrameSpec('ecef')).toEqual(ECEF);
    expect(ECEF_DEFAULT_EDGE).toBe(16777216);
    expect(parseFrameSpec('ecef:16777216')).toEqual(ECEF);
    expect(parseFrameSpec('ecef:1e6', { id: 9 })).toEqual({
      id: 9,
      kind: 'ecef',
      origin: [-5e5, -5e5, -5e5],
      edge: 1e6,
    });
    expect(parseFrameSpec('enu:47.3769,8.5417,408,4096', { id: 3 })).toEqual(ENU);
    expect(parseFrameSpec(' ENU: 47.3769 , 8.5417 ,408, 4096 ', { id: 3 })).toEqual(ENU);
    expect(parseFrameSpec('cartesian:635000,849000,400,4096', { id: 7 })).toEqual(CART);
    expect(parseFrameSpec('cartesian:-1.5e3,.5,+2,2.5e3', { id: 255 }).origin).toEqual([-1500, 0.5, 2]);
    expect(Object.is(parseFrameSpec('cartesian:-0,0,0,1').origin[0], 0)).toBe(true);
    expect(parseFrameSpec('enu:-90,359.5,-100,1').anchor).toEqual({ lat: -90, lon: 359.5, h: -100 });
  });

  it('rejects bad specs with INVALID_FRAME, naming the spec and the accepted forms', () => {
    const bad = [
      '',
      'foo',
      'utm:1,2,3,4',
      'ecef:',
      'ecef:0',
      'ecef:-5',
      'ecef:1,2',
      'ecef:Infinity',
      'enu:91,0,0,100',
      'enu:-90.5,0,0,100',
      'enu:0,360,0,100',
      'enu:0,-180.1,0,100',
      'enu:0,0,0',
      'enu:NaN,0,0,1',
      'enu:0,0,0,0',
      'cartesian:1,2,3,abc',
      'cartesian:1,2,3,',
      'cartesian:0x10,0,0,1',
      'cartesian:1e400,0,0,1',
      'cartesian:1,2,3,4,5',
    ];
    for (const spec of bad) {
      const e = errorOf(() => parseFrameSpec(spec));
      expect(e.code, spec).toBe('INVALID_FRAME');
      expect(e.message).toContain(JSON.stringify(spec));
      expect(e.message).toContain('cartesian:X0,Y0,Z0,EDGE');
    }
    for (const id of [-1, 256, 1.5])
      expect(codeOf(() => parseFrameSpec('ecef', { id }))).toBe('INVALID_FRAME');
  });

  it('frameToSpec is the inverse of parseFrameSpec', () => {
    expect(frameToSpec(ECEF)).toBe('ecef');
    expect(frameToSpec(ENU)).toBe('enu:47.3769,8.5417,408,4096');
    expect(frameToSpec(CART)).toBe('cartesian:635000,849000,400,4096');
    const rnd = prng(1);
    for (let i = 0; i < 200; i++) {
      const edge = rnd() * 1e5 + 1e-3;
      const frames: Frame[] = [
        { id: i % 256, kind: 'ecef', origin: [-edge / 2, -edge / 2, -edge / 2], edge },
        { id: i % 256, kind: 'cartesian', origin: [rnd() * 1e7 - 5e6, rnd(), -rnd() * 1e-3], edge },
        {
          id: i % 256,
          kind: 'enu',
          origin: [-edge / 2, -edge / 2, -edge / 2],
          edge,
          anchor: { lat: rnd() * 180 - 90, lon: rnd() * 540 - 180, h: rnd() * 1e4 - 5e3 },
        },
      ];
      for (const f of frames) expect(parseFrameSpec(frameToSpec(f), { id: f.id })).toEqual(f);
    }
  });
});

describe('frame JSON', () => {
  it('round trips every kind unchanged, object and text', () => {
    for (const f of [ECEF, ENU, CART, parseFrameSpec('ecef:12345.678', { id: 200 })]) {
      const text = frameToJSON(f);
      const back = frameFromJSON(text);
      expect(back).toEqual(f);
      expect(frameToJSON(back)).toBe(text);
    }
    expect(frameToJSON(CART)).toBe('{"id":7,"kind":"cartesian","origin":[635000,849000,400],"edge":4096}');
    expect(Object.keys(JSON.parse(frameToJSON(ENU)))).toEqual(['id', 'kind', 'origin', 'edge', 'anchor']);
  });

  it('validates what it reads', () => {
    const bad = [
      'not json',
      'null',
      '[]',
      '{"id":1,"kind":"ecef","origin":[0,0,0],"edge":16777216}',
      '{"id":300,"kind":"cartesian","origin":[0,0,0],"edge":1}',
      '{"id":1,"kind":"cartesian","origin":[0,0],"edge":1}',
      '{"id":1,"kind":"cartesian","origin":[0,0,"0"],"edge":1}',
      '{"id":1,"kind":"cartesian","origin":[0,0,0],"edge":-1}',
      '{"id":1,"kind":"polar","origin":[0,0,0],"edge":1}',
      '{"id":1,"kind":"cartesian","origin":[0,0,0],"edge":1,"colour":"red"}',
      '{"id":1,"kind":"cartesian","origin":[0,0,0],"edge":1,"anchor":{"lat":0,"lon":0,"h":0}}',
      '{"id":1,"kind":"enu","origin":[-1,-1,-1],"edge":2}',
      '{"id":1,"kind":"enu","origin":[-1,-1,-1],"edge":2,"anchor":{"lat":0,"lon":0,"h":0,"datum":"x"}}',
      '{"id":1,"kind":"enu","origin":[-1,-1,-1],"edge":2,"anchor":{"lat":95,"lon":0,"h":0}}',
    ];
    for (const text of bad)
      expect(
        codeOf(() => frameFromJSON(text)),
        text,
      ).toBe('INVALID_FRAME');
    expect(codeOf(() => checkFrame({ ...CART, edge: Number.NaN }))).toBe('INVALID_FRAME');
    expect(checkFrame(ENU)).toBe(ENU);
  });
});

describe('WGS84', () => {
  it('matches known values', () => {
    expect(geodeticToEcef(0, 0, 0)).toEqual([6378137, 0, 0]);
    const pole = geodeticToEcef(90, 0, 0);
    expect(pole[0]).toBeCloseTo(0, 6);
    expect(pole[1]).toBe(0);
    expect(pole[2]).toBeCloseTo(6356752.314245, 6);
    expect(geodeticToEcef(-90, 0, 0)[2]).toBeCloseTo(-6356752.314245, 6);
    const east = geodeticToEcef(0, 90, 100);
    expect(east[0]).toBeCloseTo(0, 6);
    expect(east[1]).toBeCloseTo(6378237, 6);
    expect(WGS84_B).toBeCloseTo(6356752.314245, 6);
    expect(ecefToGeodetic(6378137, 0, 0)).toEqual([0, 0, 0]);
    const p = ecefToGeodetic(0, 0, 6356752.314245 + 10);
    expect(p[0]).toBe(90);
    expect(p[2]).toBeCloseTo(10, 6);
    const w = ecefToGeodetic(0, -WGS84_A - 1000, 0);
    expect(w[1]).toBe(-90);
    expect(w[2]).toBeCloseTo(1000, 9);
    expect(codeOf(() => geodeticToEcef(91, 0, 0))).toBe('INVALID_INPUT');
    expect(codeOf(() => ecefToGeodetic(Number.NaN, 0, 0))).toBe('INVALID_INPUT');
  });

  it('puts the height along the ellipsoid normal (independent geometric check)', () => {
    const rnd = prng(2);
    for (let i = 0; i < 200; i++) {
      const lat = rnd() * 180 - 90;
      const lon = rnd() * 360 - 180;
      const [x, y, z] = geodeticToEcef(lat, lon, 0);
      // on the ellipsoid, and its gradient (x/a², y/a², z/b²) makes the angle `lat` with the equator
      expect((x * x + y * y) / WGS84_A ** 2 + (z * z) / WGS84_B ** 2).toBeCloseTo(1, 12);
      const g = [x / WGS84_A ** 2, y / WGS84_A ** 2, z / WGS84_B ** 2];
      expect((Math.atan2(g[2]!, Math.hypot(g[0]!, g[1]!)) * 180) / Math.PI).toBeCloseTo(lat, 10);
      expect(dist(geodeticToEcef(lat, lon, 5000), [x, y, z])).toBeCloseTo(5000, 6);
    }
  });

  it('round trips ECEF ↔ geodetic to under a micrometre from -10 km to +10,000 km', () => {
    const rnd = prng(3);
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const lat = i < 4 ? [90, -90, 0, 89.999999][i]! : rnd() * 180 - 90;
      const lon = rnd() * 360 - 180;
      const h = i % 3 === 0 ? rnd() * 20000 - 10000 : rnd() * 1.001e7 - 1e4;
      const ecef = geodeticToEcef(lat, lon, h);
      const [lat2, lon2, h2] = ecefToGeodetic(...ecef);
      worst = Math.max(worst, Math.abs(h2 - h), dist(geodeticToEcef(lat2, lon2, h2), ecef));
      expect(Math.abs(lat2 - lat) * (Math.PI / 180) * (WGS84_A + h)).toBeLessThan(1e-6);
      if (Math.abs(lat) < 89) expect(Math.abs(lon2 - lon)).toBeLessThan(1e-11);
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('ENU: the anchor is the origin, up is up, and the inverse holds', () => {
    const a = { lat: 47.3769, lon: 8.5417, h: 408 };
    const at = geodeticToEcef(a.lat, a.lon, a.h);
    expect(ecefToEnu(a, at)).toEqual([0, 0, 0]);
    const up = ecefToEnu(a, geodeticToEcef(a.lat, a.lon, a.h + 1000));
    expect(up[0]).toBeCloseTo(0, 6);
    expect(up[1]).toBeCloseTo(0, 6);
    expect(up[2]).toBeCloseTo(1000, 6);
    expect(ecefToEnu({ lat: 0, lon: 0, h: 0 }, [WGS84_A, 1, 2])).toEqual([1, 2, 0]);
    const north = ecefToEnu(a, geodeticToEcef(a.lat + 0.01, a.lon, a.h));
    expect(north[1]).toBeGreaterThan(1100);
    expect(Math.abs(north[0])).toBeLessThan(1e-6);
    const rnd = prng(4);
    for (let i = 0; i < 500; i++) {
      const p: [number, number, number] = [rnd() * 2e5 - 1e5, rnd() * 2e5 - 1e5, rnd() * 2e4 - 1e4];
      expect(dist(ecefToEnu(a, enuToEcef(a, p)), p)).toBeLessThan(1e-8);
    }
  });

  it('batch forms equal the scalar forms and turn bad input into NaN', () => {
    const rnd = prng(5);
    const n = 1000;
    const pts = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) pts.set([rnd() * 180 - 90, rnd() * 360 - 180, rnd() * 1e5 - 1e3], 3 * i);
    pts.set([100, 0, 0, Number.NaN, 0, 0], 0);
    const anchor = { lat: -33.86, lon: 151.21, h: 20 };
    const ecef = geodeticToEcefBatch({ points: pts });
    const enu = geodeticToEnuBatch({ anchor, points: pts, out: new Float64Array(3 * n) });
    for (let i = 0; i < 2; i++) expect([...ecef.subarray(3 * i, 3 * i + 3)].every(Number.isNaN)).toBe(true);
    expect([...enu.subarray(0, 6)].every(Number.isNaN)).toBe(true);
    for (let i = 2; i < n; i++) {
      const g = [pts[3 * i]!, pts[3 * i + 1]!, pts[3 * i + 2]!] as const;
      expect([...ecef.subarray(3 * i, 3 * i + 3)]).toEqual(geodeticToEcef(...g));
      expect(dist([...enu.subarray(3 * i, 3 * i + 3)], ecefToEnu(anchor, geodeticToEcef(...g)))).toBeLessThan(
        1e-9,
      );
    }
    const inPlace = pts.slice();
    expect(geodeticToEcefBatch({ points: inPlace, out: inPlace })).toBe(inPlace);
    expect([...inPlace.subarray(30, 33)]).toEqual([...ecef.subarray(30, 33)]);
    expect(codeOf(() => geodeticToEcefBatch({ points: new Float64Array(4) }))).toBe('INVALID_ARGUMENT');
  });
});

describe('geodetic frames', () => {
  it('maps geodetic positions to frame metres and back', () => {
    expect(geodeticToFrame(ECEF, 0, 0, 0)).toEqual([6378137, 0, 0]);
    expect(geodeticToFrame(ENU, 47.3769, 8.5417, 408)).toEqual([0, 0, 0]);
    expect(geodeticToFrame(ENU, 47.3769, 8.5417, 1408)[2]).toBeCloseTo(1000, 6);
    const g = frameToGeodetic(ENU, [100, -200, 30]);
    expect(dist(geodeticToFrame(ENU, ...g), [100, -200, 30])).toBeLessThan(1e-8);
    expect(frameToGeodetic(ECEF, [6378137, 0, 0])).toEqual([0, 0, 0]);
    const pts = Float64Array.from([47.3769, 8.5417, 1408, 0, 0, 0]);
    const up = geodeticToFrameBatch({ frame: ENU, points: pts });
    expect(dist([...up.subarray(0, 3)], [0, 0, 1000])).toBeLessThan(1e-6);
    expect([...up.subarray(3, 6)]).toEqual(geodeticToFrame(ENU, 0, 0, 0));
    const e = errorOf(() => geodeticToFrame(CART, 0, 0, 0));
    expect(e.code).toBe('INVALID_FRAME');
    expect(e.message).toContain('x/y/z');
    expect(codeOf(() => frameToGeodetic(CART, [0, 0, 0]))).toBe('INVALID_FRAME');
    expect(codeOf(() => geodeticToFrameBatch({ frame: CART, points: pts }))).toBe('INVALID_FRAME');
  });
});

/** Brute force: the nearest BCC point inside [0, n-1]³ and its distance. */
function nearestInBox(u: number[], n: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (const parity of [0, 1]) {
    let d2 = 0;
    for (const c of u) {
      let axis = Number.POSITIVE_INFINITY;
      for (let k = Math.floor(c) - 3; k <= Math.floor(c) + 3; k++) {
        if (k >= 0 && k <= n - 1 && ((k % 2) + 2) % 2 === parity) axis = Math.min(axis, (c - k) ** 2);
      }
      d2 += axis;
    }
    best = Math.min(best, d2);
  }
  return Math.sqrt(best);
}

describe('frameToLattice', () => {
  it('gives the nearest BCC point inside the domain, within √5/2 units (√3 at the top faces)', () => {
    const rnd = prng(6);
    for (let i = 0; i < 20000; i++) {
      const edge = i % 2 ? 2 ** Math.floor(rnd() * 30 - 10) : rnd() * 1e4 + 0.1;
      const f: Frame = { id: 1, kind: 'cartesian', origin: [rnd() * 2e6 - 1e6, rnd() * 100, -rnd()], edge };
      const lod = Math.floor(rnd() * 16);
      const n = 2 ** (lod + 1);
      // a third of the points hug a face: exactly on the origin or within a unit of the top
      const at = (o: number) => {
        const r = rnd();
        if (i % 3 !== 0 || r < 0.3) return o + rnd() * edge * (1 - 1e-15);
        return r < 0.5 ? o : Math.min(o + edge * (1 - rnd() / n), o + edge * (1 - 2 ** -52));
      };
      const p = [at(f.origin[0]), at(f.origin[1]), at(f.origin[2])];
      if (!p.every((v, k) => v < f.origin[k]! + edge)) continue;
      const l = frameToLattice(f, lod, p[0]!, p[1]!, p[2]!);
      expect(isBccPoint(...l)).toBe(true);
      expect(l.every((v) => v >= 0 && v <= n - 1)).toBe(true);
      const u = p.map((v, k) => ((v - f.origin[k]!) * n) / edge);
      const d = dist(l, u);
      expect(d).toBeLessThanOrEqual(nearestInBox(u, n) + 1e-9);
      expect(d).toBeLessThanOrEqual(u.some((v) => v > n - 1) ? Math.sqrt(3) + 1e-9 : Math.sqrt(5) / 2 + 1e-9);
      if (u.every((v) => v >= 1 && v <= n - 1.5)) {
        expect(l).toEqual(snapToLattice(u[0]!, u[1]!, u[2]!));
      }
    }
  });

  it('keeps LOD 15 at the very top edge of the domain inside 16 bits', () => {
    const top = H - 2 ** -29; // the largest double below origin + edge = 2^23
    expect(top).toBeLessThan(H);
    expect(frameToLattice(ECEF, 15, top, top, top)).toEqual([65535, 65535, 65535]);
    expect(frameToLattice(ECEF, 15, top, top, -H)).toEqual([65535, 65535, 1]);
    const id = frameToIndex64(ECEF, 15, top, top, top);
    expect(index64ToLattice(id)).toEqual({ frame: 0, tier: 0, lod: 15, x: 65535, y: 65535, z: 65535 });
    expect(frameToLattice(ECEF, 0, top, top, top)).toEqual([1, 1, 1]);
    expect(codeOf(() => frameToLattice(ECEF, 15, H, 0, 0))).toBe('OUT_OF_DOMAIN');
  });

  it('keeps the origin face inside too (the all-odd tie goes to 1, not -1)', () => {
    const f = parseFrameSpec('cartesian:0,0,0,64'); // unit 1 at LOD 5
    expect(frameToLattice(f, 5, 0, 0.9, 0.9)).toEqual([1, 1, 1]);
    expect(frameToLattice(f, 5, 0, 0, 0)).toEqual([0, 0, 0]);
    expect(frameToLattice(f, 5, 0.5, 0.5, 0.5)).toEqual([0, 0, 0]);
    expect(frameToLattice(f, 5, 63.5, 63.5, 63.5)).toEqual([63, 63, 63]);
  });

  it('rejects points outside the domain with OUT_OF_DOMAIN naming the point and the frame', () => {
    const outside: [number, number, number][] = [
      [634999.999, 849000, 400],
      [639096, 849000, 400],
      [635000, 853096.5, 400],
      [635000, 849000, 399],
      [Number.NaN, 849000, 400],
      [635000, Number.POSITIVE_INFINITY, 400],
    ];
    for (const p of outside) {
      const e = errorOf(() => frameToLattice(CART, 10, ...p));
      expect(e.code).toBe('OUT_OF_DOMAIN');
      expect(e.message).toContain(`point (${p.join(', ')})`);
      expect(e.message).toContain('frame 7 (cartesian');
      expect(e.message).toContain('edge 4096 m');
      expect(e.message).toContain('choose a larger edge or another frame');
      expect(codeOf(() => frameToIndex64(CART, 10, ...p))).toBe('OUT_OF_DOMAIN');
    }
    expect(frameToLattice(CART, 10, 635000, 849000, 400)).toEqual([0, 0, 0]);
    expect(codeOf(() => frameToLattice(CART, 16, 635000, 849000, 400))).toBe('INVALID_LOD');
  });

  it('latticeUnit and latticeToFrame follow the unit edge / 2^(L+1)', () => {
    expect(latticeUnit(ECEF, 15)).toBe(256);
    expect(latticeUnit(CART, 11)).toBe(1);
    expect(latticeToFrame(CART, 11, 2, 4, 6)).toEqual([635002, 849004, 406]);
    expect(codeOf(() => latticeToFrame(CART, 11, 4096, 0, 0))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => latticeToFrame(CART, 11, -1, 1, 1))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => latticeUnit(CART, -1))).toBe('INVALID_LOD');
  });
});

describe('Index64 in a frame', () => {
  it('writes frame, tier and LOD, and decodes to a cell centre within √5/2 units (√3 at the top faces)', () => {
    const rnd = prng(7);
    let top = 0;
    for (const f of [ECEF, ENU, CART]) {
      for (let i = 0; i < 2000; i++) {
        const lod = Math.floor(rnd() * 16);
        const tier = i % 4;
        const x = f.origin[0] + rnd() * f.edge;
        const y = f.origin[1] + rnd() * f.edge;
        const z = f.origin[2] + rnd() * f.edge;
        const id = frameToIndex64(f, lod, x, y, z, { tier });
        const fields = index64ToLattice(id);
        expect([fields.frame, fields.tier, fields.lod]).toEqual([f.id, tier, lod]);
        expect([fields.x, fields.y, fields.z]).toEqual(frameToLattice(f, lod, x, y, z));
        const back = index64ToFrame(f, id);
        const unit = latticeUnit(f, lod);
        const atTop = [x, y, z].some((v, k) => (v - f.origin[k]!) / unit > 2 ** (lod + 1) - 1);
        if (atTop) top++;
        const bound = atTop ? Math.sqrt(3) : Math.sqrt(5) / 2;
        expect(dist(back, [x, y, z]) / unit).toBeLessThanOrEqual(bound + 1e-9);
        expect(index64ToFrame(f, BigInt.asIntN(64, id))).toEqual(back);
      }
    }
    expect(top).toBeGreaterThan(100); // coarse LODs put many points in the top unit
  });

  it('refuses ids of another frame or kind', () => {
    const id = frameToIndex64(CART, 8, 636000, 850000, 1000);
    const e = errorOf(() => index64ToFrame({ ...CART, id: 8 }, id));
    expect(e.code).toBe('INVALID_FRAME');
    expect(e.message).toContain('frame 7');
    expect(codeOf(() => index64ToFrame(CART, index64ToHilbert64(id)))).toBe('INVALID_ID');
    // LOD 0 allows coordinates 0..1 only
    expect(codeOf(() => index64ToFrame(CART, (1n << 63n) | (7n << 52n) | 0b111000n))).toBe('INVALID_ID');
    expect(codeOf(() => frameToIndex64(CART, 8, 636000, 850000, 1000, { tier: 4 }))).toBe('INVALID_TIER');
  });
});

describe('frameToIndex64Batch', () => {
  function randomPoints(f: Frame, n: number, seed: number): Float64Array {
    const rnd = prng(seed);
    const pts = new Float64Array(3 * n);
    for (let i = 0; i < 3 * n; i++) {
      const o = f.origin[i % 3]!;
      const r = rnd();
      if (r < 0.03) pts[i] = o - rnd() * f.edge * 0.1;
      else if (r < 0.06) pts[i] = o + f.edge * (1 + rnd() * 0.1);
      else if (r < 0.07) pts[i] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][i % 3]!;
      else if (r < 0.1) pts[i] = o + f.edge * (1 - rnd() * 1e-4);
      else if (r < 0.12) pts[i] = o + rnd() * f.edge * 1e-4;
      else pts[i] = o + rnd() * f.edge;
    }
    return pts;
  }

  it('gives the same ids as the scalar form, with rejected points masked', () => {
    // unit = 1 at every LOD with edge 2^(L+1), so a half-unit grid hits exact even/odd ties
    const frames: Frame[] = [ECEF, ENU, CART, parseFrameSpec('cartesian:-3.3,7,1e-3,777.7', { id: 255 })];
    let checked = 0;
    let rejected = 0;
    for (let lod = 0; lod < 16; lod++) {
      const grid = parseFrameSpec(`cartesian:0,0,0,${2 ** (lod + 1)}`, { id: 42 });
      // every third coordinate nudged one ulp off the tie, either way
      const nudge = [1, 1 + 2 ** -52, 1 - 2 ** -53];
      const gridPts = randomPoints(grid, 500, lod).map((v, k) => (Math.round(v * 2) / 2) * nudge[k % 3]!);
      for (const [f, points] of [
        [frames[lod % 4]!, randomPoints(frames[lod % 4]!, 2000, 100 + lod)],
        [grid, gridPts],
      ] as const) {
        const tier = lod % 4;
        const res = frameToIndex64Batch({ frame: f, lod, points, tier, lattice: true });
        let outside = 0;
        for (let i = 0; i < points.length / 3; i++) {
          const p = [points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!] as const;
          const l = res.lattice!.subarray(3 * i, 3 * i + 3);
          const code = codeOf(() => frameToIndex64(f, lod, ...p, { tier }));
          if (code === undefined) {
            expect(res.ids[i]).toBe(BigInt.asIntN(64, frameToIndex64(f, lod, ...p, { tier })));
            expect([...l]).toEqual(frameToLattice(f, lod, ...p));
            expect(res.rejects[i]).toBe(0);
          } else {
            expect(code).toBe('OUT_OF_DOMAIN');
            expect(res.ids[i]).toBe(0n);
            expect([...l]).toEqual([-1, -1, -1]);
            expect(res.rejects[i]).toBe(p.every(Number.isFinite) ? REJECT_OUT_OF_DOMAIN : REJECT_NON_FINITE);
            outside++;
          }
          checked++;
        }
        expect(res.outside).toBe(outside);
        rejected += outside;
      }
    }
    expect(checked).toBe(16 * 2500);
    expect(rejected).toBeGreaterThan(1000);
  });

  it('writes into the given arrays and checks their sizes', () => {
    const points = randomPoints(CART, 100, 9);
    const out = new BigInt64Array(120);
    const rejects = new Uint8Array(100).fill(9);
    const lattice = new Int32Array(300);
    const res = frameToIndex64Batch({ frame: CART, lod: 12, points, out, rejects, lattice });
    expect(res.ids.buffer).toBe(out.buffer);
    expect(res.ids.length).toBe(100);
    expect(res.rejects.buffer).toBe(rejects.buffer);
    expect(res.lattice!.buffer).toBe(lattice.buffer);
    expect([...rejects].every((r) => r === 0 || r === 1 || r === 2)).toBe(true);
    expect(frameToIndex64Batch({ frame: CART, lod: 12, points }).lattice).toBeUndefined();
    expect(codeOf(() => frameToIndex64Batch({ frame: CART, lod: 12, points: new Float64Array(5) }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      codeOf(() => frameToIndex64Batch({ frame: CART, lod: 12, points, out: new BigInt64Array(99) })),
    ).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => frameToIndex64Batch({ frame: CART, lod: 16, points }))).toBe('INVALID_LOD');
    expect(codeOf(() => frameToIndex64Batch({ frame: { ...CART, id: 256 }, lod: 1, points }))).toBe(
      'INVALID_FRAME',
    );
  });
});
