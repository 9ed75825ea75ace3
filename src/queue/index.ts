export type { Admission, AdmissionLimit, Admitted, DeadLetter, Forgotten, Job, JobHandler, JobQueue, NewJob, NoticeOf, ProcessOptions, QueueCounts, RetryOptions } from './queue.js';
export { oldestFirst, replayEvery } from './queue.js';
export { MemoryQueue, QueueClosedError, QueueFullError } from './memory.js';
export { retryDelayMs, deferralDelayMs, isPermanent, isDeferral, errorText } from './backoff.js';
export { BullQueue, type BullQueueOptions } from './bullmq.js';
