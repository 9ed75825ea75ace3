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
  conversation: { type: 'string' },
  channel: { type: 'string' },
  user: { type: 'string' },
} as const;

/** Each command's own options (--help and --version go with every one): another command's is refused, not ignored. */
const commandOptions: Record<string, readonly (keyof typeof options)[]> = {
  serve: ['no-worker'],
  worker: ['concurrency'],
  dlq: ['all'],
  aws: [],
  check: [],
  slack: [],
  'simulate slack': ['dm', 'retry', 'url', 'channel', 'user'],
  'simulate intercom': ['conversation', 'url'],
  'simulate whatsapp': ['from', 'url'],
};

const EVERY_COMMAND = new Set(['help', 'version']);

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
    parsed = parse(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw error;
    const option = /'(-[^' ]+)/.exec((error as Error).message)?.[1] ?? 'an option';
    return refuse(code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${option}` : `${option} needs a value`);
  }
  const { tokens, ...args } = parsed;
  const [first, second] = args.positionals;
  // An unknown command (or simulate's unknown platform) gets its own usage line later.
  const own = first === undefined ? [] : commandOptions[first === 'simulate' ? `simulate ${second}` : first];
  if (own === undefined) return args;
  const foreign = tokens.find((token) => token.kind === 'option' && !EVERY_COMMAND.has(token.name) && !own.includes(token.name as keyof typeof options));
  return foreign?.kind === 'option' ? refuse(`unknown option ${foreign.rawName}`) : args;
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
