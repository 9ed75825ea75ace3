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
