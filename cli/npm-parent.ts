import { readFileSync } from 'node:fs';

/** How often a process started by npm looks whether npm is still there. */
const PARENT_CHECK_MS = 1000;
/** How far up the process tree npm is looked for: npm → sh → tsx → parley is three links. */
const MOST_LINKS = 4;

/**
 * Started by npm (`npm start`, `npx tsx cli/main.ts serve`), the process runs under npm's `sh -c`,
 * which dies on the SIGTERM npm passes on without passing it further (dash): a supervisor stopping
 * npm would leave the server running, orphaned. So when npm's shell goes, stop as on SIGTERM. It
 * may not be the parent: `tsx` (a wrapper that relays the signals it gets, but gets none) can sit
 * between, and only it is orphaned then. So every process between this one and npm is watched:
 * one handed to another parent means npm, or its shell, has gone. Not otherwise: `nohup parley
 * serve &` outlives its shell on purpose.
 */
export function stopWithNpm(stop: () => void): void {
  if (!process.env.npm_lifecycle_event || process.platform === 'win32') return;
  const links = linksBelowNpm();
  const timer = setInterval(() => {
    if (links.every(({ pid, parent }) => parentOf(pid) === parent)) return;
    clearInterval(timer);
    stop();
  }, PARENT_CHECK_MS);
  timer.unref();
}

interface Link {
  pid: number;
  parent: number;
}

/**
 * Each process from this one up to the one npm started, with its parent now. Where the tree cannot
 * be read (no /proc) or npm is not found on it, only this process's own parent.
 */
function linksBelowNpm(): Link[] {
  const own = { pid: process.pid, parent: process.ppid };
  const links = [own];
  for (let link = own; links.length <= MOST_LINKS; ) {
    const name = nameOf(link.parent);
    if (name === undefined) break;
    // npm names itself in its process title ("npm start", "npm exec tsx …").
    if (/^npm\b/.test(name)) return links;
    const parent = parentOf(link.parent);
    if (parent === undefined || parent <= 1) break;
    link = { pid: link.parent, parent };
    links.push(link);
  }
  return [own];
}

/** A process's parent (Linux /proc), or undefined once it is gone or where that cannot be read. */
function parentOf(pid: number): number | undefined {
  if (pid === process.pid) return process.ppid;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (name) state ppid …": the name may hold spaces and parentheses, so read after the last one.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function nameOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
