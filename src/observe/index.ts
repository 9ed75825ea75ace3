export { createLogger, redactPaths, serializeError, type Logger, type LogFormat } from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
