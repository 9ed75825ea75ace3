/**
 * The command line, read with node:util's parseArgs: a mistyped option is the operator's to fix,
 * so it gets one sentence and the command's usage (exit 2), not parseArgs' stack trace.
 */
import { parseArgs } from 'node:util';

const options = {
  'no-worker': { type: 'boolean' },
  concurrency: { type: 'string' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  dm: { type: 'boolean' },
  retry: { type: 'string' },
  url: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  conversation: { type: 'string' },
  channel: { type: 'string' },
  user: { type: 'string' },
  team: { type: 'string' },
} as const;

/** Each command's own options (--help and --version go with every one): another command's is refused, not ignored. */
const commandOptions: Record<string, readonly (keyof typeof options)[]> = {
  serve: ['no-worker'],
  worker: ['concurrency'],
  'dlq list': ['user', 'conversation'],
  'dlq show': [],
  'dlq replay': ['all'],
  'dlq drop': [],
  'dlq purge': [],
  aws: [],
  check: [],
  slack: [],
  'simulate slack': ['dm', 'retry', 'url', 'channel', 'user', 'team'],
  'simulate intercom': ['conversation', 'url'],
  'simulate whatsapp': ['from', 'to', 'url'],
};

const EVERY_COMMAND = new Set(['help', 'version']);

/** How many words each command is, its arguments included: more are refused, not ignored. */
const commandWords: Record<string, number> = {
  serve: 1,
  worker: 1,
  check: 1,
  aws: 2,
  slack: 2,
  'dlq list': 2,
  'dlq show': 3,
  'dlq replay': 3,
  'dlq drop': 3,
  'dlq purge': 2,
  'simulate slack': 3,
  'simulate intercom': 3,
  'simulate whatsapp': 3,
};

/** The commands' first words: another is an unknown command, with --version or --help too. */
const COMMANDS = new Set(Object.keys(commandWords).map((key) => key.split(' ')[0]));

/** What `parley <command>` says of a command it does not have (exit 2). */
export const unknownCommand = (command: string, usage: string): string => `parley: unknown command "${command}"\n\n${usage}`;

/** The options that take a whole number: the least each takes, and how to say so. */
const wholeNumbers: Partial<Record<keyof typeof options, { min: number; takes: string }>> = {
  concurrency: { min: 1, takes: 'a whole number above 0' },
  retry: { min: 0, takes: 'a whole number of redeliveries (0 or more)' },
};

export type Parsed = Omit<ReturnType<typeof parse>, 'tokens'>;

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options, tokens: true });
}

/** The parsed arguments, or the line to print (exit 2) for an option parseArgs or the command refused. */
export function readArgs(argv: string[], usage: string): Parsed | { refused: string } {
  const command = argv.find((arg) => !arg.startsWith('-'));
  const refuse = (problem: string) => ({ refused: `parley${command ? ` ${command}` : ''}: ${problem}\n\n${usageOf(command, usage)}` });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(negativeValues(argv));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw error;
    const message = (error as Error).message;
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? 'an option';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return refuse(`unknown option ${option}`);
    return refuse(/does not take an argument/.test(message) ? `${option} takes no value` : `${option} needs a value`);
  }
  const { tokens, ...args } = parsed;
  const [first, second] = args.positionals;
  // `parley --version extra`: the unknown command is refused as without --version or --help.
  if (first !== undefined && !COMMANDS.has(first)) return { refused: unknownCommand(first, usage) };
  const unknown = unknownAction(first, second);
  if (unknown) return refuse(unknown);
  // A command without its second word (`parley dlq`) has no options of its own here: main.ts prints its usage.
  const key = first === 'simulate' || first === 'dlq' ? `${first} ${second}` : first;
  const own = key === undefined ? [] : commandOptions[key];
  if (own === undefined) return args;
  const foreign = tokens.find((token) => token.kind === 'option' && !EVERY_COMMAND.has(token.name) && !own.includes(token.name as keyof typeof options));
  if (foreign?.kind === 'option') return refuse(`unknown option ${foreign.rawName}`);
  for (const [name, { min, takes }] of Object.entries(wholeNumbers)) {
    const value = args.values[name as keyof typeof args.values];
    if (typeof value === 'string' && !(/^\d+$/.test(value) && Number(value) >= min)) return refuse(`--${name} takes ${takes}, not ${JSON.stringify(value)}`);
  }
  const words = key === undefined ? undefined : commandWords[key];
  const extra = words === undefined ? undefined : args.positionals[words];
  if (extra !== undefined) return refuse(`unexpected argument ${JSON.stringify(extra)}${first === 'simulate' ? ' (put a text of several words in quotes)' : ''}`);
  if (key === 'dlq replay' && args.values.all && args.positionals[2] !== undefined) return refuse('replay takes an ID or --all, not both');
  return args;
}

/** The words each command of two words takes second: another is named, not just met with the usage. */
const actions: Record<string, { word: string; takes: readonly string[] }> = {
  dlq: { word: 'action', takes: ['list', 'show', 'replay', 'drop', 'purge'] },
  simulate: { word: 'platform', takes: ['slack', 'intercom', 'whatsapp'] },
  aws: { word: 'action', takes: ['setup'] },
  slack: { word: 'action', takes: ['reseal'] },
};

/** What is wrong with a second word the command does not know (`parley dlq lsit`); undefined when it knows it, or none is given. */
function unknownAction(first: string | undefined, second: string | undefined): string | undefined {
  const command = first === undefined ? undefined : actions[first];
  if (command === undefined || second === undefined || command.takes.includes(second)) return undefined;
  return `unknown ${command.word} ${JSON.stringify(second)} (${command.takes.join(', ')})`;
}

/**
 * `--retry -1` as `--retry=-1`: parseArgs calls a value starting with a dash ambiguous, and the
 * operator would be told the option needs a value rather than what is wrong with this one.
 */
function negativeValues(argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([a-z-]+)$/.exec(argv[i]!)?.[1];
    const next = argv[i + 1];
    if (name && options[name as keyof typeof options]?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) joined.push(`${argv[i++]}=${next}`);
    else joined.push(argv[i]!);
  }
  return joined;
}

/** The command's own lines of the usage text (with their continuation lines), or all of it. */
function usageOf(command: string | undefined, usage: string): string {
  const own: string[] = [];
  let inside = false;
  for (const line of usage.split('\n')) {
    if (/^ {2}\S/.test(line)) inside = command !== undefined && line.startsWith(`  ${command} `);
    else if (!/^ {6,}\S/.test(line)) inside = false;
    if (inside) own.push(line.trim().replace(/ {3,}/, '\n    '));
  }
  return own.length > 0 ? own.map((line) => (line.startsWith(command!) ? `usage: parley ${line}` : `    ${line}`)).join('\n') : usage;
}
