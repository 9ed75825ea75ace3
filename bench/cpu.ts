/**
 * CPU time of the bench's server processes, from /proc (Linux; undefined elsewhere). On a shared
 * machine, events per second move with the neighbours' load; CPU time per event hardly does.
 */
import { readFileSync } from 'node:fs';

/**
 * User + system CPU time of a process (all its threads) in ms, or undefined when it cannot be read.
 * /proc/<pid>/stat counts in ticks of 10 ms (USER_HZ 100).
 */
export function cpuTimeMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The summed CPU time of `pids`, undefined once any of them cannot be read. */
function cpuOfAll(pids: (number | undefined)[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const ms = cpuTimeMs(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

/** CPU used since `start`: parley's processes together, and the service they use (Redis) apart. */
export interface CpuUsed {
  parleyMs: number | undefined;
  /** The worker processes' share of parleyMs, when they were named. */
  workersMs?: number | undefined;
  serviceMs: number | undefined;
}

/**
 * A measured window: `start()` reads the CPU times, `read()` what has been used since. The
 * service (the Redis server, shared with other work) is kept apart, never added to parley's figure;
 * the worker processes' share is read too when they are named.
 */
export function cpuWindow(pids: (number | undefined)[], servicePid?: number, workerPids?: (number | undefined)[]): { read(): CpuUsed } {
  const parleyAt = cpuOfAll(pids);
  const workersAt = workerPids && cpuOfAll(workerPids);
  const serviceAt = servicePid === undefined ? undefined : cpuTimeMs(servicePid);
  const since = (before: number | undefined, now: number | undefined) => (before !== undefined && now !== undefined ? now - before : undefined);
  return {
    read: () => ({
      parleyMs: since(parleyAt, cpuOfAll(pids)),
      ...(workerPids ? { workersMs: since(workersAt, cpuOfAll(workerPids)) } : {}),
      serviceMs: servicePid === undefined ? undefined : since(serviceAt, cpuTimeMs(servicePid)),
    }),
  };
}

/** CPU per item in µs, or undefined. */
export function perItemUs(ms: number | undefined, items: number): number | undefined {
  return ms !== undefined && items > 0 ? (ms * 1000) / items : undefined;
}
