/**
 * Which adapters the ready-to-run server turns on, from the configuration. This lives outside
 * src/ because it is the one place that knows every platform.
 */
import { isLoopbackHost } from '../src/http/address.js';
import { ConfigError, type Adapter, type Config } from '../src/index.js';
import { slackAdapter, slackConfigFromEnv } from '../adapters/slack/index.js';
import { intercomAdapter, intercomConfigFromEnv } from '../adapters/intercom/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../adapters/whatsapp/index.js';
import { webChat } from '../adapters/web/index.js';

/** The adapters whose settings are present. */
export function adaptersFromConfig(config: Config): Adapter[] {
  const adapters: Adapter[] = [];
  const loopback = isLoopbackHost(config.host);
  // PUBLIC_URL says the chat is served to the internet (through a proxy), whatever HOST is.
  const reachable = !loopback || Boolean(config.publicUrl);
  // On by default where nobody else can reach it, or when a token or a session secret says it is meant to be reached.
  const web = config.web.enabled ?? (!reachable || Boolean(config.web.token) || Boolean(config.web.sessionSecret));
  if (web && reachable && !config.web.sessionSecret) {
    const why = loopback ? `PUBLIC_URL=${config.publicUrl} says it is served to the internet` : `HOST=${config.host} is reachable from other machines`;
    throw new ConfigError(
      `WEB_SESSION_SECRET is required: the web chat is on and ${why}, so visitor sessions must be signed with a secret every process shares (and every restart keeps). Fix: set WEB_SESSION_SECRET to a long random string (e.g. $(openssl rand -hex 32)), or turn the web chat off with WEB_CHAT=false.`,
    );
  }
  // The standalone server is the chat page's home: it serves it at `/` (embedded, the page is opt-in).
  if (web) adapters.push(webChat({ page: true, token: config.web.token, sessionSecret: config.web.sessionSecret }));
  const slack = slackConfigFromEnv(config.env);
  if (slack) adapters.push(slackAdapter(slack));
  const intercom = intercomConfigFromEnv(config.env);
  if (intercom) adapters.push(intercomAdapter(intercom));
  const whatsapp = whatsappConfigFromEnv(config.env);
  if (whatsapp) adapters.push(whatsappAdapter(whatsapp));
  return adapters;
}
