/**
 * The bot's own mention in a message's text. Slack writes it `<@UBOT>`, but some clients and apps
 * send the labelled form `<@UBOT|name>` (Bolt's directMention takes both): each is the bot's
 * mention, and neither is shown to the model.
 */

/** Whether `text` mentions the bot, in either form. */
export function mentionsBot(text: string, botUserId: string): boolean {
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

/** `text` without the bot's mentions. */
export function withoutBotMention(text: string, botUserId: string): string {
  const plain = text.replaceAll(`<@${botUserId}>`, '');
  // A regex only when a labelled mention is there: most messages have none.
  if (!plain.includes(`<@${botUserId}|`)) return plain;
  return plain.replace(new RegExp(`<@${botUserId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\|[^<>]*>`, 'g'), '');
}
