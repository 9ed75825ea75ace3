/**
 * Environment variables that look like a misspelling of one of parley's: a misspelt name is not
 * read, so without a word the setting silently keeps its default (`AI_BUDGET_USD_DAY=20` is no
 * budget at all). Only names are looked at, never values (they may be secrets).
 */

export interface MisspeltVariable {
  name: string;
  /** The known name closest to it. */
  suggestion: string;
}

/**
 * Prefixes no other common software uses: any unknown name starting with one is a slip. General
 * ones (SLACK_, OPENAI_, AWS_, REDIS_, WEB_…) are left to the spelling rules, as other tools use them.
 */
const PARLEY_PREFIXES = ['AI_BUDGET_', 'AI_BREAKER_', 'AI_FALLBACK_', 'OPENAI_FALLBACK_', 'WEB_CHAT', 'ALERT_DLQ_', 'CONVERSATION_LOG_'];

/** Other software's variables one edit or one word from parley's: never flagged. */
const OTHER_SOFTWARE = new Set([
  'SLACK_TOKEN', // many Slack tools' token (a missing SLACK_BOT_TOKEN is named by the Slack adapter anyway)
  'SLACK_API_TOKEN', // the Slack SDKs' examples'
  'DYNAMODB_TABLE', // the Serverless Framework's examples' table
]);

/** Each variable in `env` that is not in `known` but looks like a misspelling of one of them, with the closest. */
export function misspeltVariables(env: Record<string, string | undefined>, known: Iterable<string>): MisspeltVariable[] {
  const names = [...known];
  const knownSet = new Set(names);
  const found: MisspeltVariable[] = [];
  const services = kubernetesServices(env);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || knownSet.has(name) || OTHER_SOFTWARE.has(name) || isServiceLink(name, services)) continue;
    const upper = name.toUpperCase();
    const near = names.filter((k) => looksLike(upper, k));
    const prefix = PARLEY_PREFIXES.find((p) => upper.startsWith(p));
    const suggestion = closest(upper, near.length > 0 || !prefix ? near : names.filter((k) => k.startsWith(prefix)));
    if (suggestion) found.push({ name, suggestion });
  }
  return found;
}

/** The warning line for one misspelt variable (its name and the suggestion only, never its value). */
export function misspeltMessage({ name, suggestion }: MisspeltVariable): string {
  return `${name} is not a parley variable, so it is ignored: did you mean ${suggestion}?`;
}

/**
 * Kubernetes gives every pod <SERVICE>_SERVICE_HOST, _SERVICE_PORT…, _PORT and _PORT_<n>_TCP… for
 * each Service in its namespace: nobody typed them, so a Service named web-chat is no misspelling.
 */
function kubernetesServices(env: Record<string, string | undefined>): string[] {
  return Object.keys(env).flatMap((name) => (name.endsWith('_SERVICE_HOST') && env[name] !== undefined ? [name.slice(0, -'_SERVICE_HOST'.length)] : []));
}

function isServiceLink(name: string, services: string[]): boolean {
  return services.some((s) => name === `${s}_SERVICE_HOST` || name.startsWith(`${s}_SERVICE_PORT`) || name === `${s}_PORT` || name.startsWith(`${s}_PORT_`));
}

function looksLike(name: string, known: string): boolean {
  if (name === known) return true; // only the case differs
  const limit = known.length <= 4 ? 0 : known.length <= 7 ? 1 : known.length <= 15 ? 2 : 3;
  // Lengths further apart than the limit cannot be within it: most pairs end here (an environment of a
  // few hundred names against parley's two hundred took over half a second at start without it).
  const near = Math.abs(name.length - known.length) <= limit && editDistance(name, known, limit) <= limit && noWordReplaced(name, known);
  return near || sameWordsOneLess(name, known);
}

/**
 * A slip keeps each word recognisable: another word in its place (METRICS_HOST for METRICS_PORT,
 * SQS_QUEUE_ARN for SQS_QUEUE_URL, MEDIA_URL for REDIS_URL) is another variable. Compared word by
 * word when the words line up; a word joined or split (LOGLEVEL) leaves it to the whole name's distance.
 */
function noWordReplaced(name: string, known: string): boolean {
  const words = name.split('_');
  const knownWords = known.split('_');
  if (words.length !== knownWords.length) return true;
  return words.every((word, i) => editDistance(word, knownWords[i]!) <= (knownWords[i]!.length >= 6 ? 2 : 1));
}

/**
 * The known name's words in another order, or with one left out (`AI_BUDGET_USD_DAY`). The first
 * word stays and two must remain: `API_KEY`, `SESSION_SECRET` or `MODEL` are other software's.
 */
function sameWordsOneLess(name: string, known: string): boolean {
  // Cheap refusals first (this runs for every pair): the same first word, and no longer than the known name.
  const first = name.indexOf('_');
  if (first < 0 || name.length > known.length || !known.startsWith(name.slice(0, first + 1))) return false;
  const words = name.split('_');
  const knownWords = known.split('_'); // its first word is the name's, and the name has two or more (above)
  const sorted = (list: string[]) => [...list].sort().join('_');
  if (words.length === knownWords.length) return sorted(words) === sorted(knownWords);
  if (words.length !== knownWords.length - 1) return false;
  return knownWords.some((_, i) => i > 0 && sorted(knownWords.filter((__, j) => j !== i)) === sorted(words));
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/**
 * Damerau–Levenshtein distance (optimal string alignment): a swap of two neighbours counts as one
 * edit. Past `atMost` it stops and answers `atMost + 1` (a row all above it cannot come back down):
 * the check compares every variable of the environment with each of parley's.
 */
export function editDistance(a: string, b: string, atMost = Infinity): number {
  let before = new Int32Array(b.length + 1);
  let previous = Int32Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let cell = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cell = Math.min(cell, before[j - 2]! + 1);
      current[j] = cell;
      if (cell < rowMin) rowMin = cell;
    }
    if (rowMin > atMost) return atMost + 1;
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}
