import { createServer, type Server } from 'node:http';
import type { NodeMiddleware } from './node.js';

/** Start a plain Node HTTP server on the middleware; resolves once it is listening. */
export function listen(middleware: NodeMiddleware, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => middleware(req, res));
  // Platforms keep connections alive; a little longer than common proxies' idle timeouts.
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * Stop taking connections; idle keep-alive sockets are closed at once and as each finishes its
 * request (an ack in flight, an event stream ended by the bot's close), and connections that never
 * end by themselves after a short grace period.
 */
export function stopAccepting(server: Server, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    // server.close() closes the connections idle now, not those that become idle afterwards.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    force.unref();
    idle.unref();
    server.close(() => {
      clearTimeout(force);
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}
