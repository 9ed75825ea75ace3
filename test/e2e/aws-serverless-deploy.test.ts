/**
 * examples/aws/serverless.yml as Serverless v4 deploys it (run from examples/aws): each function's
 * handler is a file next to the yml, and bundled with exactly the yml's build.esbuild settings,
 * it loads in a plain ESM Node process, as the Lambda runtime loads it, and exports its handler.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { exampleDir, serverlessYml } from '../helpers/serverless-yml.js';

// Inside node_modules, so the bundles' external packages resolve as in the deployed function's.
const dir = join(new URL('../..', import.meta.url).pathname, 'node_modules', '.cache', 'parley-test-aws-deploy');
// The Framework's own keys in build.esbuild; the rest are esbuild's options, over the Framework's
// defaults (Node, the runtime's version, CommonJS).
const frameworkDefaults: BuildOptions = { platform: 'node', target: 'node20', format: 'cjs' };
const frameworkKeys = new Set(['exclude', 'buildConcurrency', 'configFile']);

describe('the serverless example as deployed', () => {
  it.each(['ingress', 'worker'])('%s: its handler is a file beside serverless.yml, and its bundle loads as an ES module', async (name) => {
    const yml = serverlessYml();
    const [file, exported] = yml.functions[name]!.handler.split(/\.(?=[^.]+$)/);
    const entry = join(exampleDir, `${file}.ts`);
    expect(existsSync(entry), `${entry}, resolved from the yml's folder`).toBe(true);

    const options = Object.fromEntries(Object.entries(yml.build.esbuild).filter(([key]) => !frameworkKeys.has(key))) as BuildOptions;
    rmSync(join(dir, name), { recursive: true, force: true });
    mkdirSync(join(dir, name), { recursive: true });
    await build({ ...frameworkDefaults, ...options, entryPoints: [entry], outdir: join(dir, name), logLevel: 'error' });
    const bundle = join(dir, name, `${file}${options.outExtension?.['.js'] ?? '.js'}`);
    writeFileSync(join(dir, name, 'load.mjs'), `const module = await import(${JSON.stringify(bundle)});\nconsole.log(typeof module[${JSON.stringify(exported)}]);\nprocess.exit(0);\n`);
    const output = execFileSync(process.execPath, [join(dir, name, 'load.mjs')], {
      cwd: join(dir, name),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', AWS_REGION: 'us-east-1', SLACK_BOT_TOKEN: 'xoxb-deploy', SLACK_SIGNING_SECRET: 'deploy-test-secret', SLACK_API_URL: 'http://127.0.0.1:9/api/', SQS_QUEUE_URL: 'http://127.0.0.1:9/123456789012/parley-prod.fifo', DYNAMODB_TABLE_PREFIX: 'parley-prod' },
    });
    expect(output.trim().split('\n').pop()).toBe('function');
  }, 60_000);
});
