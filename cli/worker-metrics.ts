import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, jsonError, type Bot } from '../src/index.js';

/** Prometheus's usual port for an exporter beside an app (the OpenTelemetry exporter's); not PORT, which `parley serve` takes on the same host. */
export const DEFAULT_METRICS_PORT = 9464;

/** METRICS_PORT: a port, or `off`. Undefined means the default. */
export function metricsPort(value: string | undefined): number | 'off' {
  if (value === undefined || value.trim() === '') return DEFAULT_METRICS_PORT;
  if (value.trim().toLowerCase() === 'off') return 'off';
  // As PORT is read: whole decimal numbers only (Number() would take 0x2EE4 and 1.2005e4 for ports).
  const port = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  // Kubernetes sets METRICS_PORT=tcp://<ip>:<port> in every pod of a namespace with a Service named metrics.
  const link = /^tcp:\/\//.test(value.trim()) ? ' (a tcp:// address is what Kubernetes sets for a Service named "metrics": set METRICS_PORT in the pod spec, or turn the service links off with enableServiceLinks: false)' : '';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`METRICS_PORT="${value}" is invalid${link}. Fix: set METRICS_PORT to a free TCP port for the worker's /metrics, /healthz and /readyz, e.g. METRICS_PORT=${DEFAULT_METRICS_PORT}, or METRICS_PORT=off`);
  return port;
}

/** What is wrong with METRICS_PORT, if anything: for the configuration check to list it with the rest. */
export const metricsPortError = (value: string | undefined): ConfigError | undefined => configErrorOf(() => metricsPort(value));

/** The ConfigError `read` throws, if any (anything else is thrown on). */
export function configErrorOf(read: () => unknown): ConfigError | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

const operational = /\/(?:healthz|readyz|metrics)$/;

/**
 * The worker's /metrics, /healthz and /readyz, answered by the bot's own routes (the AI calls,
 * dead letters and breaker live in the workers, so Prometheus must scrape them). Nothing else is
 * served: a worker takes no webhooks. A port already taken (a second worker on one host) is
 * logged and the worker goes on answering messages without it.
 */
export async function serveWorkerMetrics(bot: Bot, port: number, host: string): Promise<Server | undefined> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (operational.test(path)) return bot.middleware(req, res);
    const { status, headers, body } = jsonError(404, 'not_found', `A parley worker serves only /metrics, /healthz and /readyz, not ${path}.`);
    res.writeHead(status, headers).end(body);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (error) {
    bot.logger.error({ err: error, port, host }, `the worker's /metrics could not listen on ${host}:${port}; give each worker on this host its own METRICS_PORT (or METRICS_PORT=off). It goes on answering messages`);
    return undefined;
  }
  server.unref(); // the worker's jobs and connections decide when it exits, not a scrape
  const bound = (server.address() as AddressInfo).port;
  bot.logger.info({ metrics: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics` }, 'worker metrics listening');
  return server;
}
