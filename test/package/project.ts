/**
 * What a user does with the published package: `npm pack` it, install the tarball into a fresh
 * project with only what that user would add, and run node, npx and tsc there.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { builtIsFresh } from '../helpers/cli.js';

const run = promisify(execFile);
const repo = new URL('../..', import.meta.url).pathname;

/** A child's environment: what npm and node need, none of the developer's parley settings. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const kept = Object.entries(process.env).filter(([name]) => /^(PATH|HOME|TMPDIR|NODE_EXTRA_CA_CERTS|(HTTPS?|NO)_PROXY)$/i.test(name));
  return { ...(Object.fromEntries(kept) as Record<string, string>), ...extra };
}

/**
 * The files `npm pack` put in the tarball, and its path. `prepack` builds dist/ first, unless dist/
 * is already newer than every source (as CI's `npm ci` leaves it, its `prepare` running the same
 * build): then the build is skipped, a minute on a loaded 2-core machine, and dist/ packed as it is.
 */
export async function packParley(): Promise<{ tarball: string; files: string[] }> {
  const into = await mkdtemp(join(tmpdir(), 'parley-pack-'));
  const build = builtIsFresh() ? ['--ignore-scripts'] : [];
  const { stdout } = await run('npm', ['pack', '--json', ...build, '--pack-destination', into], { cwd: repo, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`npm pack failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
  // prepack's own output (tsc) comes first; the JSON report is the last thing printed.
  const [report] = JSON.parse(stdout.slice(stdout.lastIndexOf('\n[') + 1)) as { filename: string; files: { path: string }[] }[];
  if (!report) throw new Error(`npm pack printed no report:\n${stdout}`);
  return { tarball: join(into, report.filename), files: report.files.map((f) => f.path) };
}

/** A fresh ESM project with `packages` installed as a user would (the local npm cache first). */
export async function createProject(name: string, packages: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `parley-${name}-`));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `try-parley-${name}`, private: true, type: 'module' }, null, 2));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packages], { cwd: dir, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 });
  return dir;
}

/** Run a command to its end; never throws, so a test can assert on the exit code and output. */
export async function runIn(dir: string, command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: dir, env: cleanEnv(env), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

export interface Running {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** SIGTERM to the command and its children (npx runs parley in a child), then wait until all have closed its output. */
  stop(): Promise<void>;
}

/** Start a long-running command and wait until its output matches `ready`; returns the match too. */
export async function startIn(dir: string, command: string, args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 30_000): Promise<Running & { match: RegExpExecArray }> {
  // Its own process group, so stop() reaches parley under npx too (npx does not pass SIGTERM on).
  const child = spawn(command, args, { cwd: dir, env: cleanEnv(env), detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const deadline = Date.now() + timeoutMs;
  let match: RegExpExecArray | null;
  while (!(match = ready.exec(out))) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      signalGroup('SIGKILL');
      throw new Error(`${command} ${args.join(' ')} printed nothing matching ${ready} in ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    match,
    output: () => out,
    async stop() {
      signalGroup('SIGTERM');
      await closed;
    },
  };
}
