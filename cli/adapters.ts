/**
 * Which adapters the ready-to-run server turns on, from the configuration. This lives outside
 * src/ because it is the one place that knows every platform.
 */
import { isLoopbackHost } from '../src/http/address.js';
import { ConfigError, type Adapter, type Config } from '../src/index.js';
import { collect, variables } from '../src/config.js';
import { misspeltMessage, misspeltVariables, type MisspeltVariable } from '../src/config-misspelt.js';
import { slackAdapter, slackConfigFromEnv, slackVariables } from '../adapters/slack/index.js';
import { intercomAdapter, intercomConfigFromEnv, intercomVariables } from '../adapters/intercom/index.js';
import { whatsappAdapter, whatsappConfigFromEnv, whatsappVariables } from '../adapters/whatsapp/index.js';
import { webChat } from '../adapters/web/index.js';

/**
 * The adapters whose settings are present. Every adapter's variables are checked before any is
 * built, and all that are wrong are named in one ConfigError, one line each: fixing one should not
 * only reveal the next. `sendsOnly`: for a process that serves none of their routes (`parley worker`).
 */
export function adaptersFromConfig(config: Config, { sendsOnly = false } = {}): Adapter[] {
  const errors: ConfigError[] = [];
  const web = webChatOn(config);
  const secret = webSessionSecretError(config);
  if (secret) errors.push(secret);
  const configs = platformConfigs(config.env, errors);
  if (errors.length > 0) throw joinConfigErrors(errors);
  const adapters: Adapter[] = [];
  // The standalone server is the chat page's home: it serves it at `/` (embedded, the page is opt-in).
  if (web) adapters.push(webChat({ page: true, token: config.web.token, sessionSecret: config.web.sessionSecret, sendsOnly }));
  if (configs.slack) adapters.push(slackAdapter(configs.slack));
  if (configs.intercom) adapters.push(intercomAdapter(configs.intercom));
  if (configs.whatsapp) adapters.push(whatsappAdapter(configs.whatsapp));
  return adapters;
}

/** Every variable the parley command reads: the core's, each platform's and the worker's METRICS_PORT and WORKER_NICE. */
const PARLEY_VARIABLES = [...Object.keys(variables), ...Object.keys(slackVariables), ...Object.keys(intercomVariables), ...Object.keys(whatsappVariables), 'METRICS_PORT', 'WORKER_NICE'];

/** The variables in `env` that look like a misspelling of one of parley's (they are not read: say so). */
export function misspeltParleyVariables(env: Record<string, string | undefined>): MisspeltVariable[] {
  return misspeltVariables(env, PARLEY_VARIABLES);
}

/** At start: one warning per misspelt variable (its name and the one meant; never its value). */
export function warnMisspeltVariables(logger: { warn(fields: object, message: string): void }, env: Record<string, string | undefined>): void {
  for (const misspelt of misspeltParleyVariables(env)) logger.warn({ variable: misspelt.name, suggestion: misspelt.suggestion }, misspeltMessage(misspelt));
}

/**
 * What is wrong with the adapters' variables in `env` (the platforms' and the web chat's session
 * secret): for a core configuration error to list them too. Core variables that are themselves
 * invalid are left out of the web chat's check (their own line names them).
 */
export function adapterConfigErrors(env: Record<string, string | undefined>): ConfigError[] {
  const { values } = collect(variables, env);
  const web: WebSettings = {
    host: typeof values.HOST === 'string' ? values.HOST : '127.0.0.1',
    publicUrl: values.PUBLIC_URL as string | undefined,
    web: { enabled: values.WEB_CHAT as boolean | undefined, token: values.WEB_TOKEN as string | undefined, sessionSecret: values.WEB_SESSION_SECRET as string | undefined },
  };
  const secret = env.WEB_SESSION_SECRET?.trim() && values.WEB_SESSION_SECRET === undefined ? undefined : webSessionSecretError(web);
  const errors: ConfigError[] = secret ? [secret] : [];
  platformConfigs(env, errors);
  return errors;
}

type WebSettings = Pick<Config, 'host' | 'publicUrl'> & { web: Pick<Config['web'], 'enabled' | 'token' | 'sessionSecret'> };

/** PUBLIC_URL says the chat is served to the internet (through a proxy), whatever HOST is. */
function reachable(config: WebSettings): boolean {
  return !isLoopbackHost(config.host) || Boolean(config.publicUrl);
}

/** On by default where nobody else can reach it, or when a token or a session secret says it is meant to be reached. */
function webChatOn(config: WebSettings): boolean {
  return config.web.enabled ?? (!reachable(config) || Boolean(config.web.token) || Boolean(config.web.sessionSecret));
}

function webSessionSecretError(config: WebSettings): ConfigError | undefined {
  if (!webChatOn(config) || !reachable(config) || config.web.sessionSecret) return undefined;
  const why = isLoopbackHost(config.host) ? `PUBLIC_URL=${config.publicUrl} says it is served to the internet` : `HOST=${config.host} is reachable from other machines`;
  return new ConfigError(
    `WEB_SESSION_SECRET is required: the web chat is on and ${why}, so visitor sessions must be signed with a secret every process shares (and every restart keeps). Fix: set WEB_SESSION_SECRET to a long random string (e.g. $(openssl rand -hex 32)), or turn the web chat off with WEB_CHAT=false.`,
  );
}

/** The error messages, one after the other, as one ConfigError. */
export function joinConfigErrors(errors: ConfigError[]): ConfigError {
  return errors.length === 1 ? errors[0]! : new ConfigError(errors.map((e) => e.message).join('\n'));
}

/** Each platform's configuration from its variables; a platform's ConfigError goes to `errors`. */
function platformConfigs(env: Record<string, string | undefined>, errors: ConfigError[]) {
  const read = <C>(fromEnv: (env: Record<string, string | undefined>) => C | undefined): C | undefined => {
    try {
      return fromEnv(env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push(error);
      return undefined;
    }
  };
  const configs = { slack: read(slackConfigFromEnv), intercom: read(intercomConfigFromEnv), whatsapp: read(whatsappConfigFromEnv) };
  errors.push(...pathErrors(configs));
  return configs;
}

/** The variable that sets each platform's webhook path (and its default); the routes `parley serve` keeps for itself. */
const PATH_VARIABLES = {
  slack: ['SLACK_EVENTS_PATH', slackVariables.SLACK_EVENTS_PATH.default],
  intercom: ['INTERCOM_WEBHOOK_PATH', intercomVariables.INTERCOM_WEBHOOK_PATH.default],
  whatsapp: ['TWILIO_WHATSAPP_PATH', whatsappVariables.TWILIO_WHATSAPP_PATH.default],
} as const;
const OWN_ROUTES = ['/healthz', '/readyz', '/metrics'];

/**
 * A webhook path on one of the server's own routes, or shared by two platforms, would never be
 * reached: createBot refuses it in its options' words, so name the variable here, as for any bad value.
 */
function pathErrors(configs: Record<keyof typeof PATH_VARIABLES, { path: string } | undefined>): ConfigError[] {
  const errors: ConfigError[] = [];
  const taken = new Map<string, string>();
  for (const [platform, [name, fallback]] of Object.entries(PATH_VARIABLES) as [keyof typeof PATH_VARIABLES, readonly [string, string]][]) {
    const path = configs[platform]?.path;
    if (path === undefined) continue;
    const other = taken.get(path);
    if (OWN_ROUTES.includes(path)) errors.push(new ConfigError(`${name}="${path}" is the server's own ${path} route, so no webhook would reach it. Fix: set ${name} to another path, e.g. ${name}=${fallback}.`));
    else if (other) errors.push(new ConfigError(`${name}="${path}" is ${other}'s path too, so one platform's webhooks would reach the other. Fix: give each its own path, e.g. ${name}=${fallback}.`));
    else taken.set(path, name);
  }
  return errors;
}
