/**
 * The README's TypeScript and JavaScript snippets, as files a user would paste into a project that
 * has parley installed: a fragment (no import lines of its own) gets the imports it leaves out, and
 * `bot` when it uses one it does not make. The pack-and-install test compiles them against the
 * installed package, so a snippet that names an export, option or method parley no longer has fails.
 */
import { readFileSync } from 'node:fs';

/** What a fragment may use without importing it: the names the README's sections import above it. */
const PRELUDE = `import { App } from '@slack/bolt';
import { createBot } from 'parley';
import { webAdapter, webChat } from 'parley/adapters/web';
import { ParleyReceiver, slackAdapter, slackConfigFromEnv, slackSdkLogger } from 'parley/adapters/slack';
import { whatsappAdapter } from 'parley/adapters/whatsapp';
import { intercomAdapter } from 'parley/adapters/intercom';
`;

/** Each snippet as `{ line, source }` (its README line, for the failure message). */
export function readmeSnippets(): { line: number; source: string }[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  // Every one, "Writing an adapter"'s whole adapter too (test/examples/readme-adapter.test.ts runs it).
  return [...readme.matchAll(/^```(?:ts|js)\n([\s\S]*?)^```$/gm)].map((match) => {
    const code = match[1]!;
    const fragment = !/^import /m.test(code);
    const needsBot = /\bbot\./.test(code) && !/\bconst bot\b/.test(code);
    const source = `${fragment ? PRELUDE : ''}${needsBot ? "declare const bot: import('parley').Bot;\n" : ''}${code}export {};\n`;
    return { line: readme.slice(0, match.index).split('\n').length + 1, source };
  });
}
