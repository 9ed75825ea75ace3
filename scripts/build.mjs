/**
 * npm run build (also prepare and prepack): the published build in dist/. It is built beside the
 * old one and swapped in at the end, so a build that is stopped part-way (Ctrl-C during a first
 * `npx parley`, which installs the checkout and so runs prepare) leaves the last dist/ working.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const next = '.dist-next';
// When the sources were read: a file saved during the build is newer than what was built from it.
const started = new Date();
fs.rmSync(next, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', next], { stdio: 'inherit' });
// What tsc does not copy: the web chat's page, frame, widget and assets, and the console's assets.
for (const file of ['page.html', 'frame.html', 'widget.js', 'assets']) fs.cpSync(`adapters/web/${file}`, `${next}/adapters/web/${file}`, { recursive: true });
fs.cpSync('src/console/assets', `${next}/src/console/assets`, { recursive: true });
fs.rmSync('dist', { recursive: true, force: true });
fs.renameSync(next, 'dist');
// The `parley` bin: tsc writes it 0644, and npx marks a checkout's bin executable only on its first run.
fs.chmodSync('dist/cli/main.js', 0o755);
// The tests run dist/ only when it is newer than every source (test/helpers/cli.ts): dated from the
// build's start, a source saved while tsc ran keeps dist/ looking stale, as it is.
fs.utimesSync('dist/cli/main.js', started, started);
