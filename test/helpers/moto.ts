/**
 * A real AWS emulator for the tests: the moto server (Python; moto-server.py runs moto's own
 * server), one per test file, on a free port. Never a mock. The AWS SDK finds it through its own endpoint variables
 * (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS), which useMoto sets for the file's process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './processes.js';

/** moto's own server, with writes to one DynamoDB item applied one at a time, as DynamoDB does (see the file). */
const SERVER = fileURLToPath(new URL('./moto-server.py', import.meta.url));
const NOT_INSTALLED = 'moto is not installed for python3 (python3 -c "import moto" fails); the AWS tests need the moto server — see .ci/run';

export interface MotoServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The variables that point the AWS SDK at this server (endpoints, region, dummy credentials). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Start a moto server on a free port and wait until it answers (moto takes a few seconds to import). */
export async function startMoto(timeoutMs = 30_000): Promise<MotoServer> {
  const port = await freePort();
  const child = spawn('python3', [SERVER, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(url))) {
    if (child.exitCode !== null) throw new Error(`${/No module named '?moto/.test(out) ? NOT_INSTALLED : 'the moto server exited'}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the moto server did not answer on ${url} within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, env: awsEnv(url), stop: () => stopChild(child) };
}

/**
 * A moto server for the whole test file: started before its tests, with the SDK's endpoint,
 * region and dummy credentials set in this process's environment, and stopped after them.
 */
export function useMoto(): () => MotoServer {
  let server: MotoServer | undefined;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    server = await startMoto();
    for (const [name, value] of Object.entries(server.env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
  }, 40_000);
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('useMoto(): the moto server is not started yet (call it inside a test)');
    return server;
  };
}

function awsEnv(url: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: url,
    AWS_ENDPOINT_URL_SQS: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
