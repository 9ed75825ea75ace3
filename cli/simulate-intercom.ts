/**
 * `parley simulate intercom "text"`: post a correctly signed `conversation.user.replied`
 * notification to a running server, as Intercom would when a customer writes.
 */
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import type { Config } from '../src/index.js';
import { intercomConfigFromEnv } from '../adapters/intercom/index.js';
import { post, shownUrl } from './simulate-post.js';

export interface SimulateIntercomOptions {
  text: string;
  /** The conversation id (default: a fixed one, so several calls make one conversation). */
  conversation?: string;
  url?: string;
}

const SIMULATED_CONVERSATION = '1000000001';

/** Send one simulated customer reply; prints what was sent and the answer. Returns an exit code. */
export async function simulateIntercom(config: Config, options: SimulateIntercomOptions): Promise<number> {
  const intercom = intercomConfigFromEnv(config.env);
  const secret = intercom?.clientSecrets[0];
  if (!intercom || !secret) {
    console.error('parley simulate intercom: set INTERCOM_ACCESS_TOKEN and INTERCOM_CLIENT_SECRET (the same ones the server uses) so the notification can be signed.');
    return 2;
  }
  const url = options.url ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}${intercom.path}`;
  const notification = userReplied(options.conversation ?? SIMULATED_CONVERSATION, options.text);
  const body = JSON.stringify(notification);
  const signature = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
  const res = await post(url, { headers: { 'content-type': 'application/json', 'x-hub-signature': signature }, body });
  if ('problem' in res) {
    console.error(res.problem);
    return 1;
  }
  console.log(`sent ${notification.topic} ${notification.id} (conversation ${notification.data.item.id}) to ${shownUrl(url)}: ${res.status} ${res.text}`);
  return res.ok ? 0 : 1;
}

/** A notification shaped like Intercom's, with the customer's new part last. */
function userReplied(conversationId: string, text: string) {
  const now = Math.floor(Date.now() / 1000);
  const author = { type: 'user', id: '6000000000000000000000a1', name: 'Simulated Customer', email: 'customer@example.com' };
  return {
    type: 'notification_event',
    app_id: 'simulated',
    id: `notif_${randomUUID()}`,
    topic: 'conversation.user.replied',
    delivery_status: 'pending',
    delivery_attempts: 1,
    delivered_at: 0,
    first_sent_at: now,
    created_at: now,
    self: null,
    links: {},
    data: {
      type: 'notification_event_data',
      item: {
        type: 'conversation',
        id: conversationId,
        created_at: now,
        updated_at: now,
        state: 'open',
        open: true,
        source: { type: 'conversation', id: String(randomInt(1e9, 2e9)), delivered_as: 'customer_initiated', body: '<p>Hello</p>', author, attachments: [] },
        contacts: { type: 'contact.list', contacts: [{ type: 'contact', id: author.id }] },
        conversation_parts: {
          type: 'conversation_part.list',
          total_count: 1,
          conversation_parts: [
            {
              type: 'conversation_part',
              id: String(randomInt(1e9, 2e9)),
              part_type: 'comment',
              body: `<p>${escapeHtml(text).replace(/\n/g, '<br>')}</p>`,
              created_at: now,
              updated_at: now,
              notified_at: now,
              assigned_to: null,
              author,
              attachments: [],
              external_id: null,
              redacted: false,
            },
          ],
        },
      },
    },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
