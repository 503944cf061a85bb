import { describe, expect, it } from 'vitest';
import { gather, gatherInto } from '../../src/export/gather.js';

/** The raw bytes of a typed array, for bit-exact comparisons. */
const bytesOf = (a: ArrayBufferView) => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)];

describe('gather', () => {
  it('copies the values at the indices, in index order, for every fixed width', () => {
    const idx = new Uint32Array([2, 0, 2]);
    expect([...gather(new Int32Array([5, -6, 7]), idx)]).toEqual([7, 5, 7]);
    expect([...gather(new Uint8Array([1, 0, 255]), idx)]).toEqual([255, 1, 255]);
    expect([...gather(new Float64Array([0.5, -0, 1e300]), idx)]).toEqual([1e300, 0.5, 1e300]);
    const big = new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]);
    expect([...gather(big, [1, 0])]).toEqual([2n ** 63n - 1n, -(2n ** 63n)]);
    expect(gather(big, idx)).toBeInstanceOf(BigInt64Array);
  });

  it('keeps every bit of a double that is a NaN with a payload, and of an id that reads as one', () => {
    const a = new Float64Array(2);
    new Uint32Array(a.buffer).set([0x1234, 0x7ff80001, 0xdeadbeef, 0xfff00001]);
    const out = gather(a, [1, 0]);
    expect(bytesOf(out)).toEqual([...bytesOf(a.subarray(1)), ...bytesOf(a.subarray(0, 1))]);
    const ids = new BigInt64Array(a.buffer);
    expect([...gather(ids, [1, 0])]).toEqual([ids[1], ids[0]]);
  });

  it('takes only the first count indices, and reads and writes views at an offset', () => {
    const src = new BigInt64Array([9n, 10n, 11n, 12n]).subarray(1);
    expect([...gather(src, new Uint32Array([2, 1, 0]), 2)]).toEqual([12n, 11n]);
    const dst = new BigInt64Array(4).subarray(2);
    gatherInto(dst, src, [0, 2], 2);
    expect([...dst]).toEqual([10n, 12n]);
    expect([...new BigInt64Array(dst.buffer)]).toEqual([0n, 0n, 10n, 12n]);
  });
});
