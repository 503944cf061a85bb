/**
 * `octa demo`: generate the synthetic survey of demo-scene.ts on the fly, ingest it into a lake, and
 * return the ingest summary. The scene streams into the ingest as a source, chunk by chunk.
 */

import { type IngestOptions, type IngestSummary, ingest } from '../lake/ingest/ingest.js';
import type { Source, SourceChunk } from '../lake/sources/index.js';
import type { Storage } from '../lake/storage/storage.js';
import { checkScene, generateScene, SCENE_FRAME, type SceneOptions } from './demo-scene.js';

/** The scene as an ingest source with columns x, y, z, time, intensity, classification, return_number. */
export function sceneSource(options: SceneOptions = {}): Source {
  return {
    format: 'generated',
    columns: [
      { name: 'x', type: 'float64' },
      { name: 'y', type: 'float64' },
      { name: 'z', type: 'float64' },
      { name: 'time', type: 'timestamp_us' },
      { name: 'intensity', type: 'int32' },
      { name: 'classification', type: 'int32' },
      { name: 'return_number', type: 'int32' },
    ],
    identity: { kind: 'stream' },
    async *chunks({ chunkRows } = {}) {
      let row = 1;
      for (const c of generateScene({ ...options, ...(chunkRows === undefined ? {} : { chunkRows }) })) {
        const time = new BigInt64Array(c.rows);
        for (let i = 0; i < c.rows; i++) time[i] = BigInt(c.timeUs[i]!);
        const chunk: SourceChunk = {
          firstRow: row,
          rows: c.rows,
          rowNumbers: Float64Array.from({ length: c.rows }, (_, i) => row + i),
          columns: {
            x: { type: 'float64', values: c.x },
            y: { type: 'float64', values: c.y },
            z: { type: 'float64', values: c.z },
            time: { type: 'timestamp_us', values: time },
            intensity: { type: 'int32', values: c.intensity },
            classification: { type: 'int32', values: c.classification },
            return_number: { type: 'int32', values: c.returnNumber },
          },
          rejects: [],
          position: { rows: row + c.rows - 1 },
        };
        row += c.rows;
        yield chunk;
      }
    },
    async close() {},
  };
}

/**
 * Generates the demo survey and ingests it as table `table` (frame cartesian:0,0,-64,1024, LOD 12:
 * lattice unit 12.5 cm).
 * @throws {OctaError} INVALID_ARGUMENT for scene options outside SCENE_LIMITS (demo-scene.ts), before anything is written
 */
export async function runDemo({
  storage,
  table = 'survey',
  scene = {},
  onProgress,
}: {
  storage: Storage;
  table?: string;
  scene?: SceneOptions;
  onProgress?: IngestOptions['onProgress'];
}): Promise<IngestSummary> {
  checkScene(scene);
  return ingest({
    storage,
    table,
    inputs: [{ source: sceneSource(scene), name: 'demo-scene' }],
    frame: SCENE_FRAME,
    lod: 12,
    time: 'time',
    rejectFile: null,
    ...(onProgress ? { onProgress } : {}),
  });
}
