/** The worker thread of ParquetEncoder: encodes jobs with `encodeInline` and sends the bytes back. */
import { parentPort } from 'node:worker_threads';
import { OctaError } from '../lattice/errors.js';
import { type EncodeJob, encodeInline } from './encoder.js';

parentPort?.on('message', (job: EncodeJob & { id: number }) => {
  try {
    const encoded = encodeInline(job);
    parentPort?.postMessage({ id: job.id, ...encoded }, [encoded.bytes.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort?.postMessage({
      id: job.id,
      error: {
        code: err instanceof OctaError ? err.code : undefined,
        message: err instanceof Error ? err.message : String(err),
      },
    });
  }
});
