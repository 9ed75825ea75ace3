import type { NoticeOf, RetryOptions } from './queue.js';

/** How a BullQueue is set up (bullmq.ts). */
export interface BullQueueOptions<T = unknown> {
  url: string;
  /** Key prefix, so several bots can share one Redis. */
  prefix?: string;
  name?: string;
  retry: RetryOptions;
  /** How long a job's lock lives without renewal: past it, a dead worker's job is recovered. */
  lockDurationMs: number;
  /** How long a job parked behind its conversation waits before it checks its turn itself (a safety net; default 2 s). */
  turnPollMs?: number;
  /** A refusal's notice, made by the pumps from the refused job: with it, the door's script queues notices (Admission.notice). */
  noticeOf?: NoticeOf<T>;
}
