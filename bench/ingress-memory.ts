/**
 * The ingress alone on the in-process queue (memory, no REDIS_URL): what `serve --no-worker` would
 * be there, started as `parley serve` starts it. The command refuses that configuration (nothing
 * would ever answer its messages), but the benches measure it: verify, dedupe, limit, enqueue, ack.
 * Nothing drains its queue, so its cap (QUEUE_MAX_MESSAGES, 10,000 by default) is lifted: past it
 * the run would measure 503 queue_full refusals, not acknowledgements.
 */
import { loadConfig } from '../src/index.js';
import { serve } from '../cli/serve.js';

await serve(loadConfig({ ...process.env, QUEUE_MAX_MESSAGES: '0' }), { worker: false });
