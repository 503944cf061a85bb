/** The worker thread of ParquetEncoder: encodes jobs with `encodeInline` and sends the bytes back. */
import { serveWorker } from '../../node/worker-pool.js';
import { encodeInline } from './encoder.js';

serveWorker(encodeInline, (encoded) => [encoded.bytes.buffer as ArrayBuffer]);
