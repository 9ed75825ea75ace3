/**
 * A TCP proxy standing for a managed Redis's primary endpoint (ElastiCache, Memorystore, Azure):
 * one name whose target moves on failover. New connections go to the current target; connections
 * already open stay with the server they were opened to, as they do when DNS moves.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface MovingProxy {
  url: string;
  /** Send new connections to `port` from now on; open ones keep theirs. */
  moveTo(port: number): void;
  close(): Promise<void>;
}

export async function startMovingProxy(targetPort: number): Promise<MovingProxy> {
  let target = targetPort;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => (client.destroy(), upstream.destroy(), sockets.delete(client), sockets.delete(upstream));
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    moveTo: (next) => void (target = next),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
