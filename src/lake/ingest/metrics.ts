/**
 * Counters and histograms for ingest jobs, written in the Prometheus text exposition format
 * (version 0.0.4) for a node exporter's textfile collector or a push gateway: `# HELP` and
 * `# TYPE` lines, `_total` counters, and histograms as cumulative `_bucket{le="…"}` lines plus
 * `_sum` and `_count`. No client library: the format is a few lines of text.
 */
import type { FileRecord } from '../catalog/catalog.js';

/** Upper bounds (seconds) of the latency histograms: 1 ms to 1 min. */
export const SECONDS_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

interface Counter {
  kind: 'counter';
  help: string;
  value: number;
}

interface Histogram {
  kind: 'histogram';
  help: string;
  bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A set of named metrics. */
export class Metrics {
  readonly #metrics = new Map<string, Counter | Histogram>();

  /** Adds `by` (default 1) to a counter, creating it at 0 first. Names end in `_total`. */
  inc(name: string, help: string, by = 1): void {
    const m = this.#get(name, () => ({ kind: 'counter', help, value: 0 }));
    if (m.kind !== 'counter') throw new Error(`${name} is not a counter`);
    m.value += by;
  }

  /** Records one observation in a histogram, creating it with `bounds` first. */
  observe(name: string, help: string, value: number, bounds: readonly number[] = SECONDS_BUCKETS): void {
    const m = this.#get(name, () => ({
      kind: 'histogram',
      help,
      bounds,
      counts: new Array<number>(bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
    }));
    if (m.kind !== 'histogram') throw new Error(`${name} is not a histogram`);
    let i = m.bounds.findIndex((b) => value <= b);
    if (i < 0) i = m.bounds.length;
    m.counts[i]!++;
    m.sum += value;
    m.count++;
  }

  /** A counter's value (0 when never incremented). */
  value(name: string): number {
    const m = this.#metrics.get(name);
    return m?.kind === 'counter' ? m.value : 0;
  }

  #get(name: string, make: () => Counter | Histogram): Counter | Histogram {
    if (!NAME.test(name)) throw new Error(`not a Prometheus metric name: ${name}`);
    let m = this.#metrics.get(name);
    if (!m) {
      m = make();
      this.#metrics.set(name, m);
    }
    return m;
  }

  /** Every metric in the Prometheus text format, sorted by name, ending with a newline. */
  toPrometheus(): string {
    const lines: string[] = [];
    const num = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');
    for (const name of [...this.#metrics.keys()].sort()) {
      const m = this.#metrics.get(name)!;
      lines.push(`# HELP ${name} ${m.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`);
      lines.push(`# TYPE ${name} ${m.kind}`);
      if (m.kind === 'counter') {
        lines.push(`${name} ${num(m.value)}`);
        continue;
      }
      let cumulative = 0;
      m.bounds.forEach((b, i) => {
        cumulative += m.counts[i]!;
        lines.push(`${name}_bucket{le="${num(b)}"} ${cumulative}`);
      });
      lines.push(`${name}_bucket{le="+Inf"} ${m.count}`);
      lines.push(`${name}_sum ${num(m.sum)}`);
      lines.push(`${name}_count ${m.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** Per written file: count, bytes and the seconds from flush to stored. */
export function fileMetrics(metrics: Metrics): (file: FileRecord, seconds: number) => void {
  return (file, seconds) => {
    metrics.inc('octa_ingest_files_written_total', 'Data files written (committed or not)');
    metrics.inc('octa_ingest_bytes_written_total', 'Parquet bytes written', file.bytes);
    metrics.observe('octa_ingest_file_write_seconds', 'Sort, encode and store time per data file', seconds);
  };
}
