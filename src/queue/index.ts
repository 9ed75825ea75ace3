export type { DeadLetter, Job, JobHandler, JobQueue, NewJob, QueueCounts, RetryOptions } from './queue.js';
export { MemoryQueue, QueueClosedError } from './memory.js';
export { retryDelayMs, isPermanent, errorText } from './backoff.js';
