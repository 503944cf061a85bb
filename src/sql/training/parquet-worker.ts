/** The worker thread of TrainingParquetPool: encodes shards with `trainingParquet`. */

import { serveWorker } from '../../node/worker-pool.js';
import { trainingParquet } from './parquet.js';

serveWorker(trainingParquet, (bytes) => [bytes.buffer as ArrayBuffer]);
