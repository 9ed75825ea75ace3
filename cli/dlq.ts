import { dynamoDbFromConfig, sqsQueueFromConfig } from '../aws/index.js';
import { BullQueue, isReplayable, replayEvery, type Config, type DeadLetter, type JobData, type JobQueue, type Store } from '../src/index.js';
import { notConnectedWords } from '../src/store/redis-connection.js';
import { orAfter } from '../src/timeout.js';
import { awsErrorText, withoutCredentials } from './check-aws.js';
import { letterMatches, type LetterFilter } from './dlq-filter.js';
import { readOnlyReplica } from './redis-replica.js';

/** `parley dlq list | show ID | replay ID | replay --all | drop ID | purge` on the SQS redrive queue or the Redis queue. */
export async function dlq(config: Config, args: string[], all: boolean, filter: LetterFilter = {}): Promise<number> {
  const [action, id] = args;
  // A mistyped command is told its usage first, not asked for a queue it would not use.
  const wrong = usageProblem(action, id, all);
  if (wrong) {
    console.error(wrong);
    return 2;
  }
  // On SQS, the workers' attempt counts (DynamoDB) tell a letter SQS redrove itself its attempts.
  const attemptsStore = config.sqsQueueUrl ? dynamoDbFromConfig(config).store : undefined;
  const queue = sharedQueue(config, attemptsStore);
  if (!queue) {
    console.error('parley dlq: the dead letters of another process live in SQS or Redis. Set SQS_QUEUE_URL or REDIS_URL; in memory they belong to the running process (bot.deadLetters).');
    return 2;
  }
  try {
    // Unreachable, the queue's connection would wait (and retry) without end and without a word.
    const unreachable = await unreachableBecause(queue);
    if (unreachable !== undefined) return cannotReach(config, unreachable);
    // A replica answers the ping, then refuses BullMQ's first write and drops the connection under the letters' read.
    const replica = config.sqsQueueUrl || !config.redisUrl ? undefined : await readOnlyReplica(config.redisUrl);
    if (replica) {
      console.error(`parley dlq: ${replica}.`);
      return 1;
    }
    const letters = await queue.deadLetters();
    switch (action) {
      case 'list': {
        const listed = letters.filter((l) => letterMatches(l, filter));
        if (listed.length === 0) console.log(letters.length === 0 ? 'no dead letters' : `none of the ${letters.length} dead letters match`);
        for (const l of listed) console.log(listLine(l));
        return 0;
      }
      case 'show': {
        const letter = letters.find((l) => l.id === id);
        if (!letter) return notFound(id);
        console.log(JSON.stringify(letter, null, 2));
        return 0;
      }
      case 'replay': {
        if (!all && !letters.some((l) => l.id === id)) return notFound(id);
        const chosen = all ? letters : letters.filter((l) => l.id === id);
        // A letter that is not a parley job would only fail the same way again: it stays, and is named.
        const skipped = chosen.filter((l) => !isReplayable(l));
        for (const l of skipped) console.error(`not replayed: ${l.id} ${l.truncated ? CUT : `is not a parley job (${l.reason})`}; read it with parley dlq show ${l.id}, drop it with parley dlq drop ${l.id}`);
        const ids = chosen.filter(isReplayable).map((l) => l.id);
        const replayed = all ? await replayEvery(queue, isReplayable) : ids.length > 0 ? Number(await queue.replay(ids[0]!)) : 0;
        console.log(`replayed ${replayed} of ${ids.length}${skipped.length > 0 ? `; skipped ${skipped.length} that ${skipped.length === 1 ? 'is' : 'are'} not a parley job` : ''}`);
        return replayed >= ids.length && skipped.length === 0 ? 0 : 1;
      }
      case 'drop':
        // Removed without a replay: the way out for a letter that can never run (invalid_job), one at a time.
        if (!(await queue.dropDeadLetter!(id!))) return notFound(id);
        console.log(`dropped ${id}`);
        return 0;
      case 'purge':
        console.log(`purged ${await queue.purge()} dead letters`);
        return 0;
      default:
        // usageProblem lets no other action through: one added there and not here must not pass silently.
        throw new Error(`parley dlq: no handling for the action "${action}"`);
    }
  } catch (error) {
    // Redis went away meanwhile: said as the check above says it, not as ioredis's stack.
    const gone = config.sqsQueueUrl ? undefined : redisWords(error);
    if (gone) return cannotReach(config, gone);
    // A command Redis refused (an ACL's NOPERM): one line, not ioredis's dump of the command's arguments (a script, a job's data).
    if ((error as Error).name !== 'ReplyError') throw error;
    console.error(`parley dlq: Redis refused a command (REDIS_URL): ${(error as Error).message}. parley check tells more.`);
    return 1;
  } finally {
    // Closing a connection that never came up can wait as long: a second is enough.
    await Promise.race([Promise.all([queue.close(0).catch(() => undefined), attemptsStore?.close().catch(() => undefined)]), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }
}

/**
 * One letter's line of `parley dlq list`: id, when, why and the error's start, tab-separated. The
 * error may hold line breaks, tabs or terminal escapes (a provider's message, a stack): each run of
 * them is one space, so every letter is one line whose first field is its id.
 */
function listLine(letter: Pick<DeadLetter<unknown>, 'id' | 'failedAt' | 'reason' | 'error' | 'truncated'>): string {
  // eslint-disable-next-line no-control-regex
  const error = letter.error.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim().slice(0, 100);
  return `${letter.id}\t${letter.failedAt}\t${letter.reason}\t${error}${letter.truncated ? `\t${CUT}` : ''}`;
}

/** How a letter cut to fit SQS's 1 MiB is named (its data is only the start of the message). */
const CUT = 'was cut to fit the queue (only the start of its message is kept)';

/** How long `parley dlq` waits for its queue to answer before saying it cannot reach it. */
const REACH_TIMEOUT_MS = 5000;

/** Why the queue cannot be reached (its answer: throttled, access denied, no such queue; or none in time), or undefined when it answers. */
function unreachableBecause(queue: JobQueue<JobData>): Promise<string | undefined> {
  // A missing SDK never gets here: building the queue from the configuration says what to install.
  // A command Redis refused (a Cluster's ACL without `{prefix}`: the ping writes a key there) is told as one, below.
  const failed = (error: unknown) => ((error as Error).name === 'ReplyError' ? Promise.reject(error) : redisWords(error) ?? withoutCredentials(awsErrorText(error)));
  return orAfter(queue.ping().then(() => undefined, failed), REACH_TIMEOUT_MS, `no answer within ${REACH_TIMEOUT_MS / 1000} s`);
}

/** ioredis's words for a connection that is not up, said plainly (as /readyz does); undefined for any other error (a WRONGPASS says why itself). */
function redisWords(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  // Already said plainly, with why (it took the connection and has not answered): as it is, not as "Error: …".
  if (/^not connected to (?:the )?Redis/.test(error.message)) return error.message;
  const notConnected = notConnectedWords(error.message);
  return notConnected && `${notConnected} (it refused the connection, or did not answer it)`;
}

function cannotReach(config: Config, why: string): number {
  console.error(`parley dlq: cannot reach the queue (${config.sqsQueueUrl ? 'SQS_QUEUE_URL' : 'REDIS_URL'}): ${why}. Check that it is up and the setting is right (parley check tells more).`);
  // Its connection keeps retrying in the background and would keep the process alive.
  setTimeout(() => process.exit(1), 100);
  return 1;
}

/** The queue other processes share: SQS when SQS_QUEUE_URL is set, else BullMQ on REDIS_URL. */
function sharedQueue(config: Config, attemptsStore: Store | undefined): JobQueue<JobData> | undefined {
  const sqs = sqsQueueFromConfig(config, attemptsStore ? { attemptsStore } : {});
  if (sqs || !config.redisUrl) return sqs;
  return new BullQueue<JobData>({
    url: config.redisUrl,
    prefix: config.redisPrefix,
    retry: { attempts: config.queue.attempts, backoffMs: config.queue.backoffMs, maxBackoffMs: 5 * 60_000 },
    lockDurationMs: config.queueLockMs,
  });
}

/** The usage line for an action dlq does not know, or one missing its ID; undefined when the command is whole. */
function usageProblem(action: string | undefined, id: string | undefined, all: boolean): string | undefined {
  switch (action) {
    case 'list':
    case 'purge':
      return undefined;
    case 'show':
    case 'drop':
      return id ? undefined : `usage: parley dlq ${action} ID (parley dlq list names them)`;
    case 'replay':
      // Both: which was meant is not known, and --all would replay every letter when one was asked for.
      if (id && all) return `parley dlq replay: give one ID or --all, not both ("${id}" and --all)\n\nusage: parley dlq replay ID | parley dlq replay --all`;
      return id || all ? undefined : 'usage: parley dlq replay ID | parley dlq replay --all';
    default:
      // A word dlq does not take is named, as every command's are (README, The command line).
      return `${action === undefined ? '' : `parley dlq: unknown action ${JSON.stringify(action)}\n\n`}usage: parley dlq list [--user ID] [--conversation TEXT] | show ID | replay ID | replay --all | drop ID | purge`;
  }
}

function notFound(id: string | undefined): number {
  console.error(`no dead letter with id ${id ?? '(none given)'}; see parley dlq list`);
  return 1;
}
