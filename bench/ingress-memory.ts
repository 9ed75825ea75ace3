/**
 * The ingress alone on the in-process queue (memory, no REDIS_URL): what `serve --no-worker` would
 * be there, started as `parley serve` starts it. The command refuses that configuration (nothing
 * would ever answer its messages), but the benches measure it: verify, dedupe, limit, enqueue, ack.
 */
import { loadConfig } from '../src/index.js';
import { serve } from '../cli/serve.js';

await serve(loadConfig(process.env), { worker: false });
