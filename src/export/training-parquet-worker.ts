/** The worker thread of TrainingParquetPool: encodes shards with `trainingParquet`. */
import { parentPort } from 'node:worker_threads';
import { trainingParquet } from './training-parquet.js';

parentPort?.on('message', ({ id, ipc }: { id: number; ipc: Uint8Array }) => {
  try {
    const bytes = trainingParquet(ipc);
    parentPort?.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
