/**
 * Which adapters the ready-to-run server turns on, from the configuration. This lives outside
 * src/ because it is the one place that knows every platform.
 */
import { isLoopbackHost } from '../src/http/address.js';
import type { Adapter, Config } from '../src/index.js';
import { slackAdapter, slackConfigFromEnv } from '../adapters/slack/index.js';
import { intercomAdapter, intercomConfigFromEnv } from '../adapters/intercom/index.js';
import { whatsappAdapter, whatsappConfigFromEnv } from '../adapters/whatsapp/index.js';
import { webChat } from '../adapters/web/index.js';

/** The adapters whose settings are present. */
export function adaptersFromConfig(config: Config): Adapter[] {
  const adapters: Adapter[] = [];
  const loopback = isLoopbackHost(config.host);
  // The web chat is on by default only where nobody else can reach it, or when a token guards it.
  const web = config.web.enabled ?? (loopback || Boolean(config.web.token));
  if (web) adapters.push(webChat({ token: config.web.token }));
  const slack = slackConfigFromEnv(config.env);
  if (slack) adapters.push(slackAdapter(slack));
  const intercom = intercomConfigFromEnv(config.env);
  if (intercom) adapters.push(intercomAdapter(intercom));
  const whatsapp = whatsappConfigFromEnv(config.env);
  if (whatsapp) adapters.push(whatsappAdapter(whatsapp));
  return adapters;
}
