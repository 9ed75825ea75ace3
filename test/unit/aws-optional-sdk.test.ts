/**
 * The AWS SDK is an optional peer: parley/aws imports without it, and the DynamoDB store and log
 * say what to install. Checked for real: a copy of src/ and aws/ beside a node_modules that holds
 * everything of this repo's but @aws-sdk, run in its own process.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'parley-no-aws-sdk-'));
  for (const folder of ['src', 'aws']) cpSync(join(root, folder), join(project, folder), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  mkdirSync(join(project, 'node_modules'));
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry !== '@aws-sdk' && entry !== '.bin') symlinkSync(join(root, 'node_modules', entry), join(project, 'node_modules', entry));
  }
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** Run an ESM script in the copy (TypeScript through tsx); its stdout parsed as JSON. */
function runInCopy(script: string): unknown {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: project, encoding: 'utf8', timeout: 30_000 });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? 'null');
}

describe('parley/aws without the AWS SDK installed', () => {
  it('the copy really lacks it', () => {
    expect(runInCopy(`import { createRequire } from 'node:module';
      let found = true; try { createRequire(import.meta.url).resolve('@aws-sdk/client-dynamodb'); } catch { found = false; }
      console.log(JSON.stringify(found));`)).toBe(false);
  });

  it('imports, and building the DynamoDB store or log throws MissingDependencyError naming the install command', () => {
    const outcome = runInCopy(`
      const aws = await import('./aws/index.ts');
      const attempt = (build) => { try { build(); return 'built'; } catch (e) { return { name: e.name, code: e.code, message: e.message }; } };
      console.log(JSON.stringify({
        exports: typeof aws.DynamoStore,
        store: attempt(() => new aws.DynamoStore({ tableName: 'parley-store' })),
        log: attempt(() => new aws.DynamoConversationLog()),
      }));`);
    const missing = (what: string) => ({
      name: 'MissingDependencyError',
      code: 'parley_missing_dependency',
      message: `${what} needs the packages "@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb", which are not all installed. Fix: npm install @aws-sdk/client-dynamodb @aws-sdk/lib-dynamodb`,
    });
    expect(outcome).toEqual({ exports: 'function', store: missing('DynamoStore'), log: missing('DynamoConversationLog') });
  });
});
