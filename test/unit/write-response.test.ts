/**
 * writeResponse and a streamed answer whose client left while the route was still working: the
 * stream is ended all the same (its slot released), not left running with no one to read it.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { writeResponse } from '../../src/http/node.js';
import { until } from '../helpers/until.js';

it('ends (returns) the stream of a client gone before the answer began', async () => {
  let ended = 0;
  async function* events(): AsyncGenerator<string> {
    try {
      yield 'data: transcript\n\n';
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        yield ': heartbeat\n\n';
      }
    } finally {
      ended++;
    }
  }
  let written!: Promise<void>;
  const server = createServer((req, res) => {
    written = (async () => {
      // The route's own awaits (state, an access check): the client leaves meanwhile.
      await once(req.socket, 'close');
      await writeResponse(res, { status: 200, stream: events() });
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write('GET /web/conversations/x/events HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => written !== undefined, 'the request to arrive');
  socket.destroy();
  await written;
  await until(() => ended > 0, 'the stream to end');
  expect(ended).toBe(1);
  server.close();
});
