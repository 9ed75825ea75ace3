/**
 * WORKER_NICE: `parley worker` lowers its own CPU priority (Unix nice) when asked, so that on a host it shares
 * with `parley serve` the webhooks' acknowledgements, which platforms time out (Slack after 3 s),
 * get the CPU before the answers, which only wait their turn. A worker alone on its host loses
 * nothing: niceness only orders processes that want the same core.
 */
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { ConfigError } from '../src/index.js';
import { configErrorOf } from './worker-metrics.js';

/**
 * Off unless asked for: on this project's 2-core bench (two ingress, two workers, Redis), nice 10
 * moved the ack's p99 less than the runs' own spread and cost the workers a few per cent of replies.
 */
export const DEFAULT_WORKER_NICE = 0;

/** WORKER_NICE: 0 (leave the priority as started, the default) to 19 (the lowest). Undefined or empty means the default. */
export function workerNice(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_WORKER_NICE;
  const nice = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(nice) || nice > 19) {
    throw new ConfigError(`WORKER_NICE="${value}" is invalid. Fix: set WORKER_NICE to the worker's CPU niceness from 0 (as started) to 19 (lowest), e.g. WORKER_NICE=10`);
  }
  return nice;
}

/** What is wrong with WORKER_NICE, if anything: for the configuration check to list it with the rest. */
export const workerNiceError = (value: string | undefined): ConfigError | undefined => configErrorOf(() => workerNice(value));

/**
 * Lower this process's priority to `nice` when it runs higher (never raise it: a worker started
 * under `nice -n 15` stays there). Returns the niceness it now runs at; one the system refuses
 * (a container without the right, rare: lowering needs none) leaves it as started.
 */
export function lowerPriority(nice: number): { nice: number; error?: unknown } {
  const current = getPriority();
  if (nice === 0 || current >= nice) return { nice: current };
  try {
    setPriority(nice);
  } catch (error) {
    return { nice: current, error };
  }
  for (const thread of startedThreads()) lowerThread(thread, nice);
  return { nice: getPriority() };
}

/**
 * Linux keeps a niceness per thread and setPriority() sets the calling thread's only: the threads
 * started before it (V8's for garbage collection and compiling) would keep competing with
 * `parley serve` at the old priority. Threads started after it inherit the main thread's.
 */
function startedThreads(): number[] {
  if (process.platform !== 'linux') return [];
  try {
    return readdirSync('/proc/self/task').map(Number).filter((thread) => Number.isInteger(thread) && thread !== process.pid);
  } catch {
    return [];
  }
}

function lowerThread(thread: number, nice: number): void {
  try {
    if (getPriority(thread) < nice) setPriority(thread, nice);
  } catch {
    // The thread ended since it was listed.
  }
}
