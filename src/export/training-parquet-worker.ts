/** The worker thread of TrainingParquetPool: encodes shards with `trainingParquet`. */
import { trainingParquet } from './training-parquet.js';
import { serveWorker } from './worker-pool.js';

serveWorker(trainingParquet, (bytes) => [bytes.buffer as ArrayBuffer]);
