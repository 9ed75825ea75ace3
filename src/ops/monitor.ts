/**
 * The alerts that watch a condition rather than a message: dead letters piling up, the AI's
 * circuit open too long, a spike of refused signatures. Every process checks every few seconds;
 * the episode's claim in the store makes it one alert, however many processes see it. The
 * budget gauges for Prometheus are refreshed here too.
 */
import type { Logger } from 'pino';
import type { CircuitStateName } from '../ai/index.js';
import type { AlertConfig } from '../config.js';
import type { Metrics } from '../observe/index.js';
import { sumFields, type Activity } from './activity.js';
import type { Alerts } from './alerts.js';
import type { Breakers } from './breakers.js';
import type { Spend } from './spend.js';
import { count } from './texts.js';

export interface MonitorDeps {
  config: AlertConfig;
  activity: Activity;
  alerts: Alerts;
  spend: Spend;
  metrics: Metrics;
  logger: Logger;
  circuit(): CircuitStateName;
  /** Where this process reports its breaker for the console (every process's, on the shared counters). */
  breakers?: Breakers;
}

export const CHECK_EVERY_MS = 5000;
/** A condition's episode stays open this long after the last check that saw it. */
const HOLD_MS = 3 * CHECK_EVERY_MS;

export class Monitor {
  private timer: NodeJS.Timeout | undefined;
  private openSince: number | undefined;
  private checking: Promise<void> | undefined;
  /** The conditions this process last saw holding: their episode goes on until a check sees it end. */
  private readonly ongoing = new Set<string>();

  constructor(private readonly deps: MonitorDeps) {}

  start(everyMs = CHECK_EVERY_MS): void {
    this.timer ??= setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round of checks (the timer's; tests call it directly). */
  check(now = Date.now()): Promise<void> {
    this.checking ??= this.run(now).finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async run(now: number): Promise<void> {
    const checks = [this.breaker(now), this.deadLetters(now), this.signatures(now), this.budgetGauges(now)];
    for (const result of await Promise.allSettled(checks)) {
      if (result.status === 'rejected') this.deps.logger.debug({ err: result.reason }, 'an alert check failed; next round in a few seconds');
    }
  }

  private async breaker(now: number): Promise<void> {
    const { config, metrics } = this.deps;
    const state = this.deps.circuit();
    // Half-open is still open (for the gauge and the alert's episode): no call has succeeded since it opened.
    const open = state === 'open' || state === 'half-open';
    metrics.circuitOpen.set(open ? 1 : 0);
    this.deps.breakers?.publish(now);
    if (!open) {
      this.openSince = undefined;
      this.ongoing.delete('breaker_open');
      return;
    }
    this.openSince ??= now;
    // Open for at least the whole ALERT_BREAKER_OPEN_SECONDS (rounding 119.6 s up would alert early).
    if (now - this.openSince < config.breakerOpenSeconds * 1000) return;
    const seconds = Math.floor((now - this.openSince) / 1000);
    // Half-open, nothing waits for it: it lets the next message through (cockatiel stays half-open until one comes).
    const meanwhile = state === 'half-open' ? 'it is half-open now: the next message is let through to try the provider again' : 'messages are waiting for it';
    await this.condition('breaker_open', `parley: the AI provider's circuit breaker has been open for ${seconds} s (ALERT_BREAKER_OPEN_SECONDS=${config.breakerOpenSeconds}); ${meanwhile}.`, { openSeconds: seconds });
  }

  private async deadLetters(now: number): Promise<void> {
    const { config, activity } = this.deps;
    const dead = sumFields(await activity.minutes(config.dlqMinutes, new Date(now))).dead ?? 0;
    if (dead < config.dlqCount) return void this.ongoing.delete('dead_letters');
    await this.condition('dead_letters', `parley: ${count(dead, 'message')} went to the dead letters in the last ${count(config.dlqMinutes, 'minute')} (ALERT_DLQ_COUNT=${config.dlqCount}). See /console#dead-letters to read and replay them.`, { deadLetters: dead });
  }

  private async signatures(now: number): Promise<void> {
    const { config, activity } = this.deps;
    const [previous, current] = await activity.minutes(2, new Date(now));
    const failures = Math.max(previous?.fields.signature_failures ?? 0, current?.fields.signature_failures ?? 0);
    if (failures < config.signatureFailuresPerMinute) return void this.ongoing.delete('signature_failures');
    await this.condition('signature_failures', `parley: ${count(failures, 'webhook')} a minute ${failures === 1 ? 'is' : 'are'} being refused for a bad signature or timestamp (ALERT_SIGNATURE_FAILURES_PER_MINUTE=${config.signatureFailuresPerMinute}): an attack, or a signing secret rotated on one side only.`, { perMinute: failures });
  }

  private async budgetGauges(now: number): Promise<void> {
    const { spend, metrics } = this.deps;
    // Every tenant's counters are read only with a tenant limit (and then shared with the console).
    const { dayUsd, monthUsd, limits, tenantMaxRatio } = await spend.gauges(new Date(now));
    metrics.budgetSpent.set({ period: 'day' }, dayUsd);
    metrics.budgetSpent.set({ period: 'month' }, monthUsd);
    // The limits in force (the console may change them): one taken away takes its series with it.
    for (const period of ['day', 'month'] as const) {
      const overall = period === 'day' ? limits.dayUsd : limits.monthUsd;
      if (overall === undefined) metrics.budgetLimit.remove({ period });
      else metrics.budgetLimit.set({ period }, overall);
      const highest = tenantMaxRatio[period];
      if (highest === undefined) metrics.budgetTenantMaxRatio.remove({ period });
      else metrics.budgetTenantMaxRatio.set({ period }, highest);
    }
  }

  /** Raise the condition's alert once per episode; while it holds, keep the episode open. */
  private async condition(kind: string, text: string, details: Record<string, unknown>): Promise<void> {
    const alert = { kind, episode: 'ongoing', ttlMs: HOLD_MS, text, details };
    // Seen holding before and never seen ending: the same episode, though its claim may have run
    // out while the store was unreachable (the checks failed, so nothing held it).
    if (this.ongoing.has(kind)) return this.deps.alerts.hold(alert);
    if (!(await this.deps.alerts.raise(alert))) await this.deps.alerts.hold(alert);
    this.ongoing.add(kind);
  }
}
