export { createLogger, redactPaths, serializeError, type Logger, type LogFormat } from './logger.js';
export { adapterCounts, createMetrics, type Metrics } from './metrics.js';
