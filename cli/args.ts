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
  dm: { type: 'boolean' },
  retry: { type: 'string' },
  url: { type: 'string' },
  from: { type: 'string' },
  conversation: { type: 'string' },
  channel: { type: 'string' },
  user: { type: 'string' },
} as const;

export type Parsed = ReturnType<typeof parse>;

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options });
}

/** The parsed arguments, or the line to print (exit 2) for an option parseArgs refused. */
export function readArgs(argv: string[], usage: string): Parsed | { refused: string } {
  try {
    return parse(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw error;
    const command = argv.find((arg) => !arg.startsWith('-'));
    const option = /'(-[^' ]+)/.exec((error as Error).message)?.[1] ?? 'an option';
    const problem = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${option}` : `${option} needs a value`;
    return { refused: `parley${command ? ` ${command}` : ''}: ${problem}\n\n${usageOf(command, usage)}` };
  }
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
