export type { Admission, AdmissionLimit, Admitted, DeadLetter, Forgotten, Job, JobHandler, JobQueue, NewJob, ProcessOptions, QueueCounts, RetryOptions } from './queue.js';
export { oldestFirst, replayEvery, RETRY_SECONDS } from './queue.js';
export { MemoryQueue, QueueClosedError } from './memory.js';
export { retryDelayMs, deferralDelayMs, isPermanent, isDeferral, errorText } from './backoff.js';
export { BullQueue, type BullQueueOptions } from './bullmq.js';
