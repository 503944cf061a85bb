/**
 * Observability of ingest jobs: `--metrics FILE` (Prometheus text format) and `--log-format json`,
 * held against the run's own JSON summary, after a success and after a failure.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/lake/ingest/metrics.js';
import { removeDir, tempDir } from '../lake/fixtures/ingest/lake.js';
import { generatePoints, POINTS_FRAME, pointsToCsv } from '../lake/fixtures/ingest/points.js';
import { octaInProcess as octa } from './run.js';

/** Samples of a Prometheus text exposition: `name{labels}` → value; HELP/TYPE checked on the way. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (counter|histogram)$/.exec(line);
    if (type) typed.add(type[1]!);
    else if (line.startsWith('# HELP ')) continue;
    else {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{le="[^"]+"\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const base = m[1]!.replace(/_(bucket|sum|count)$/, '');
      if (!typed.has(m[1]!) && !typed.has(base)) throw new Error(`sample before its TYPE: ${line}`);
      samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
    }
  }
  return samples;
}

describe('Metrics.toPrometheus', () => {
  it('writes counters and cumulative histograms in the text exposition format', () => {
    const m = new Metrics();
    m.inc('b_total', 'Bs', 2);
    m.inc('b_total', 'Bs', 3);
    for (const v of [0.5, 2, 7]) m.observe('a_seconds', 'As\nover two lines', v, [1, 5]);
    expect(m.toPrometheus()).toBe(
      [
        '# HELP a_seconds As\\nover two lines',
        '# TYPE a_seconds histogram',
        'a_seconds_bucket{le="1"} 1',
        'a_seconds_bucket{le="5"} 2',
        'a_seconds_bucket{le="+Inf"} 3',
        'a_seconds_sum 9.5',
        'a_seconds_count 3',
        '# HELP b_total Bs',
        '# TYPE b_total counter',
        'b_total 5',
        '',
      ].join('\n'),
    );
    expect(() => m.inc('bad name', 'x')).toThrow(/metric name/);
    expect(() => m.observe('b_total', 'x', 1)).toThrow(/not a histogram/);
  });
});

describe('octa ingest --metrics --log-format json', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('metrics');
  });
  afterEach(() => removeDir(dir));

  const args = (csv: string, extra: string[] = []) => [
    'ingest',
    csv,
    '--lake',
    join(dir, 'lake'),
    '--table',
    'pts',
    '--frame',
    POINTS_FRAME,
    '--time',
    'time',
    '--metrics',
    join(dir, 'metrics.prom'),
    '--log-format',
    'json',
    '--json',
    ...extra,
  ];

  it('counts what the summary reports, one commit, and a file-write histogram per file', async () => {
    const rows = generatePoints({ rows: 3000, days: 3 });
    const csv = join(dir, 'in.csv');
    // Two bad rows: a non-numeric x and a missing field.
    writeFileSync(csv, `${pointsToCsv(rows)}\nnope,1,2,2025-01-01T00:00:00Z,1,1,a,true\n1,2\n`);
    const r = await octa(args(csv, ['--file-rows', '500']));
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, number>;
    const m = parsePrometheus(readFileSync(join(dir, 'metrics.prom'), 'utf8'));
    expect(m.get('octa_ingest_rows_read_total')).toBe(summary.rows_read);
    expect(m.get('octa_ingest_rows_rejected_total')).toBe(2);
    expect(m.get('octa_ingest_rows_committed_total')).toBe(3000);
    expect(m.get('octa_ingest_files_committed_total')).toBe(summary.files);
    expect(m.get('octa_ingest_files_written_total')).toBe(summary.files);
    expect(m.get('octa_ingest_file_write_seconds_count')).toBe(summary.files);
    expect(m.get('octa_ingest_bytes_read_total')).toBe(readFileSync(csv).length);
    expect(m.get('octa_ingest_bytes_written_total')).toBeGreaterThan(0);
    expect(m.get('octa_ingest_commit_seconds_count')).toBe(1);
    expect(m.get('octa_ingest_commit_retries_total')).toBe(0);
    expect(m.get('octa_ingest_runs_total')).toBe(1);
    expect(m.has('octa_ingest_failures_total')).toBe(false);
    // Buckets are cumulative and end at the count.
    const buckets = [...m]
      .filter(([k]) => k.startsWith('octa_ingest_file_write_seconds_bucket'))
      .map(([, v]) => v);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(buckets.at(-1)).toBe(summary.files);
    // stderr: JSON lines only, the last one the outcome with the summary's figures.
    const logs = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.every((l) => typeof l.ts === 'string' && (l.level === 'info' || l.level === 'error'))).toBe(
      true,
    );
    expect(logs.at(-1)).toMatchObject({ level: 'info', msg: 'ingest committed', rows_committed: 3000 });
  });

  it('after a failure: metrics still written, a failure counted, nothing committed, an error log line', async () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(
      csv,
      `${pointsToCsv(generatePoints({ rows: 50 }))}\nnope,1,2,2025-01-01T00:00:00Z,1,1,a,true\n`,
    );
    const r = await octa(args(csv, ['--max-rejects', '0']));
    expect(r.status).not.toBe(0);
    const m = parsePrometheus(readFileSync(join(dir, 'metrics.prom'), 'utf8'));
    expect(m.get('octa_ingest_failures_total')).toBe(1);
    expect(m.get('octa_ingest_rows_rejected_total')).toBe(1);
    expect(m.has('octa_ingest_rows_committed_total')).toBe(false);
    const lines = r.stderr.trim().split('\n');
    const error = lines
      .map((l) => (l.startsWith('{') ? JSON.parse(l) : null))
      .find((l) => l?.level === 'error');
    expect(error).toMatchObject({ msg: 'ingest failed', code: 'INVALID_INPUT' });
  });
});
