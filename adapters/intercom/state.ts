/**
 * What the adapter remembers per conversation, in the bot's store (shared by every process when
 * it is Redis): which parts were taken, and whether the bot has stepped aside. (The parts the bot
 * has sent are the core's to record.)
 */
import type { Store } from 'parley/adapter-kit';

/** Longer than Intercom redelivers a notification (it gives up within hours). */
const PART_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** A handed-over conversation stays with people for this long, even if it is reopened. */
const STOPPED_TTL_MS = 90 * 24 * 60 * 60 * 1000;

export const intercomKeys = {
  part: (conversationId: string, partId: string) => `parley:intercom:part:${conversationId}:${partId}`,
  stopped: (conversationId: string) => `parley:intercom:stopped:${conversationId}`,
  /** Which request replaced an undecided admin reply with a handoff. */
  handoff: (conversationId: string) => `parley:intercom:handoff:${conversationId}`,
  /** A run of the handoff has begun assigning the conversation (it may have been taken, answered or not). */
  assigning: (conversationId: string) => `parley:intercom:assigning:${conversationId}`,
};

export class ConversationState {
  constructor(private readonly store: () => Store) {}

  /**
   * Claim a conversation part for this notification. A different notification carrying the same
   * part loses; a redelivery of the same notification wins again (the core's de-duplication on
   * the notification id decides then — and it lets a redelivery through when the first could
   * not be queued, which a plain claim here would wrongly drop).
   */
  async claimPart(conversationId: string, partId: string, notificationId: string): Promise<boolean> {
    const key = intercomKeys.part(conversationId, partId);
    if (await this.store().setIfAbsent(key, notificationId, PART_TTL_MS)) return true;
    return (await this.store().get(key)) === notificationId;
  }

  /** Whether the bot must stay out of this conversation for this notification; `botAdminId` undefined while unknown. */
  async stopped(conversationId: string, notificationId: string, botAdminId?: string): Promise<boolean> {
    const reason = await this.store().get(intercomKeys.stopped(conversationId));
    if (reason?.startsWith('admin:')) return teammateAmong(reason, botAdminId);
    // The notification that asked for a person still goes through (its redelivery too): it carries the handoff.
    return reason !== undefined && reason !== `handoff:${notificationId}`;
  }

  /** Whether a teammate (not the bot) has replied here. */
  async humanReplied(conversationId: string, botAdminId?: string): Promise<boolean> {
    const reason = await this.store().get(intercomKeys.stopped(conversationId));
    if (reason?.startsWith('admin:')) return teammateAmong(reason, botAdminId);
    return reason?.startsWith('human:') ?? false;
  }

  /**
   * An admin replied while the bot's own admin is not known yet (Intercom's GET /me has not
   * answered): kept as `admin:<ids>` and read as a teammate's reply unless it was the bot's,
   * once that is known. A decided reason (a teammate, a handoff) is left as it is.
   */
  async noteAdminReply(conversationId: string, adminIds: readonly string[]): Promise<void> {
    const key = intercomKeys.stopped(conversationId);
    const reason = await this.store().get(key);
    if (reason !== undefined && !reason.startsWith('admin:')) return;
    const ids = new Set([...(reason?.slice('admin:'.length).split(',') ?? []), ...adminIds]);
    await this.store().set(key, `admin:${[...ids].join(',')}`, STOPPED_TTL_MS);
  }

  /**
   * Note that the handoff's assignment is about to be posted. True the first time; false when an
   * earlier run got this far (its assignment may have been taken although that run failed or died).
   */
  async firstAssignment(conversationId: string): Promise<boolean> {
    return this.store().setIfAbsent(intercomKeys.assigning(conversationId), '1', STOPPED_TTL_MS);
  }

  async stopForHuman(conversationId: string, adminId: string): Promise<void> {
    await this.store().set(intercomKeys.stopped(conversationId), `human:${adminId}`, STOPPED_TTL_MS);
  }

  /**
   * Stop for a handoff; a decided reason recorded first stays (a human reply outranks a later
   * request). An undecided admin reply does not: it may have been the bot's own, which stops nothing.
   * True when this notification owns the handoff (it alone is answered with HANDOFF_REPLY and
   * assigned; its redelivery owns it again); false when another request or a teammate came first.
   */
  async stopForHandoff(conversationId: string, notificationId?: string): Promise<boolean> {
    const key = intercomKeys.stopped(conversationId);
    const reason = notificationId ? `handoff:${notificationId}` : 'handoff';
    if (await this.store().setIfAbsent(key, reason, STOPPED_TTL_MS)) return true;
    const stored = await this.store().get(key);
    if (notificationId && stored === reason) return true;
    if (!stored?.startsWith('admin:')) return false;
    // Two requests may both find the undecided reply: one claim decides which replaces it.
    const claim = intercomKeys.handoff(conversationId);
    const owner = (await this.store().setIfAbsent(claim, reason, STOPPED_TTL_MS)) || (notificationId !== undefined && (await this.store().get(claim)) === reason);
    if (owner) await this.store().set(key, reason, STOPPED_TTL_MS);
    return owner;
  }
}

/** Whether `admin:<ids>` names someone other than the bot; unknowable (false) until the bot's admin is known. */
function teammateAmong(reason: string, botAdminId: string | undefined): boolean {
  if (botAdminId === undefined) return false;
  return reason.slice('admin:'.length).split(',').some((id) => id !== '' && id !== botAdminId);
}
