/** The queue-depth gauge (parley_queue_depth), refreshed on a timer by the bot. */
import type { JobData } from './jobs.js';
import type { Metrics } from './observe/index.js';
import type { JobQueue } from './queue/index.js';

export async function updateQueueDepth(queue: JobQueue<JobData>, metrics: Metrics): Promise<void> {
  try {
    const counts = await queue.counts();
    for (const [state, value] of Object.entries(counts)) metrics.queueDepth.set({ state }, value);
  } catch {
    // readiness reports a queue that cannot be reached; the gauge just keeps its last value
  }
}

/** Refresh the gauge every 5 s from now on; the timer keeps no process alive (clearInterval it on close). */
export function refreshQueueDepth(queue: JobQueue<JobData>, metrics: Metrics): NodeJS.Timeout {
  return setInterval(() => void updateQueueDepth(queue, metrics), 5000).unref();
}
