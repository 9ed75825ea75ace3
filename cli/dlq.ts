import { BullQueue, type Config, type JobData } from '../src/index.js';

/** `parley dlq list | show ID | replay ID | replay --all | purge` on the Redis queue. */
export async function dlq(config: Config, args: string[], all: boolean): Promise<number> {
  if (!config.redisUrl) {
    console.error('parley dlq: the dead letters of another process live in Redis. Set REDIS_URL; in memory they belong to the running process (bot.deadLetters).');
    return 2;
  }
  const queue = new BullQueue<JobData>({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    retry: { attempts: config.queue.attempts, backoffMs: config.queue.backoffMs, maxBackoffMs: 5 * 60_000 },
    lockDurationMs: config.queueLockMs,
  });
  try {
    const [action, id] = args;
    const letters = await queue.deadLetters();
    switch (action) {
      case 'list':
        if (letters.length === 0) console.log('no dead letters');
        for (const l of letters) console.log(`${l.id}\t${l.failedAt}\t${l.reason}\t${l.error.slice(0, 100)}`);
        return 0;
      case 'show': {
        const letter = letters.find((l) => l.id === id);
        if (!letter) return notFound(id);
        console.log(JSON.stringify(letter, null, 2));
        return 0;
      }
      case 'replay': {
        const ids = all ? letters.map((l) => l.id) : id ? [id] : [];
        if (ids.length === 0) {
          console.error('usage: parley dlq replay ID | parley dlq replay --all');
          return 2;
        }
        let replayed = 0;
        for (const each of ids) if (await queue.replay(each)) replayed++;
        console.log(`replayed ${replayed} of ${ids.length}`);
        return replayed === ids.length ? 0 : 1;
      }
      case 'purge':
        console.log(`purged ${await queue.purge()} dead letters`);
        return 0;
      default:
        console.error('usage: parley dlq list | show ID | replay ID | replay --all | purge');
        return 2;
    }
  } finally {
    await queue.close(0);
  }
}

function notFound(id: string | undefined): number {
  console.error(`no dead letter with id ${id ?? '(none given)'}; see parley dlq list`);
  return 1;
}
