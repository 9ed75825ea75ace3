/**
 * Whether a server's port takes connections, asked on a connection of its own: a fetch may reuse a
 * pooled keep-alive connection the server has not swept yet (it closes idle ones every 50 ms while
 * stopping), or fail on one it just swept while the port is still open, so neither says whether
 * the port itself is closed.
 */
import { connect } from 'node:net';

/** Resolves true when a new connection to `url`'s host and port is refused. */
export function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}
