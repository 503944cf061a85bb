/** The worker thread of ParquetEncoder: encodes point files and tables and sends the bytes back. */
import { serveWorker } from '../../node/worker-pool.js';
import { encodeAny, resultBuffers } from './encoder.js';

serveWorker(encodeAny, resultBuffers);
