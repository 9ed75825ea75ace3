/**
 * The account's WhatsApp numbers this process has seen people's messages written to (the `To` of
 * an inbound message it answers: Twilio delivered it to us, signed; one from our own number may be
 * the echo of a reply, its `To` a person's). Replies go from the number written to, so a message
 * from one of these is one of the bot's numbers writing to another: answering it could start two
 * of them talking to each other. Kept in memory, bounded: a number not seen here lately is not known.
 */
export class OwnNumbers {
  private readonly seen = new Set<string>();

  constructor(private readonly max = 1_000) {}

  /** Remember a number a message was written to; past `max`, the one least lately seen is forgotten. */
  note(number: string): void {
    // Deleted and added again: a Set keeps insertion order, so the oldest is the least lately seen.
    this.seen.delete(number);
    if (this.seen.size >= this.max) this.seen.delete(this.seen.values().next().value as string);
    this.seen.add(number);
  }

  has(number: string): boolean {
    return this.seen.has(number);
  }
}
