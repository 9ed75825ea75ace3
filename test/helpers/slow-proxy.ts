/**
 * A TCP relay to a real server that holds back every chunk, in both directions, for `delayMs`
 * (changeable while it runs): a slow network or a slow server, never a frozen one. Chunks keep
 * their order; a round trip costs about twice the delay.
 */
import net from 'node:net';

export interface SlowProxy {
  /** 127.0.0.1:<port> */
  port: number;
  /** How long each chunk is held back now, each way. */
  delayMs: number;
  close(): Promise<void>;
}

export async function startSlowProxy(targetPort: number, delayMs: number, targetHost = '127.0.0.1', port = 0): Promise<SlowProxy> {
  const sockets = new Set<net.Socket>();
  const proxy = { delayMs } as SlowProxy;
  /** Writes what `from` sends to `to`, each chunk `proxy.delayMs` after it came, in order. */
  const relay = (from: net.Socket, to: net.Socket) => {
    let last = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const due = Date.now() + proxy.delayMs;
      last = last.then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())))).then(() => void (to.destroyed || to.write(chunk)));
    });
    from.on('close', () => void last.then(() => to.destroy()));
    from.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return proxy;
}
