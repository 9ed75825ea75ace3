import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBot, type Config } from '../src/index.js';
import { dynamoDbFromConfig } from '../aws/index.js';
import { adaptersFromConfig, warnMisspeltVariables } from './adapters.js';
import { queueOption } from './queue.js';
import { closeOnSignals } from './shutdown.js';
import { ListenError, listenProblem } from './listen-error.js';

const NOTHING_ON =
  "no adapter is on, so nothing will be answered: set a platform's variables (SLACK_…, TWILIO_…, INTERCOM_…), or turn the web chat on with WEB_CHAT=true and WEB_SESSION_SECRET (it is off by default where HOST or PUBLIC_URL make it reachable from other machines)";

/** `parley serve`: the standalone server (ingress and, unless --no-worker, the worker). */
export async function serve(config: Config, options: { worker: boolean }): Promise<void> {
  const bot = createBot({ config, adapters: adaptersFromConfig(config), worker: options.worker, ...queueOption(config), ...dynamoDbFromConfig(config) });
  warnMisspeltVariables(bot.logger, config.env);
  // Before listening: a SIGTERM while the port opens still closes the bot.
  closeOnSignals(bot, config.shutdownDelayMs);
  const server: Server = await bot.listen().catch((error: unknown) => {
    const problem = listenProblem(error, config.port, config.host);
    throw problem ? new ListenError(problem) : error;
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  bot.logger.info({ url, mode: config.mode, adapters: bot.adapters.map((a) => a.platform), worker: options.worker }, `parley listening on ${url}`);
  if (bot.adapters.length === 0) bot.logger.warn(NOTHING_ON);
}
