/**
 * The four budget limits in force: each is the environment's (AI_BUDGET_USD_PER_…) unless the
 * console set it (an amount, or no limit), which is kept in the store so every process applies it.
 * Read through a short in-process cache: a change reaches every process within CACHE_MS, and the
 * budget check before an AI call reads the store at most once per CACHE_MS, not per message.
 */
import type { Logger } from 'pino';
import type { BudgetConfig } from '../config.js';
import type { BudgetLimitChange, BudgetsView } from '../console/api.js';
import { OutageLog } from '../observe/outage-log.js';
import type { Store } from '../store/index.js';

export type LimitName = 'dayUsd' | 'monthUsd' | 'tenantDayUsd' | 'tenantMonthUsd';
export type Limits = Partial<Record<LimitName, number>>;
export type LimitSource = 'environment' | 'console';

/** Each limit's environment variable, which the console API takes as its name too. */
export const LIMIT_VARIABLES: Record<LimitName, string> = {
  dayUsd: 'AI_BUDGET_USD_PER_DAY',
  monthUsd: 'AI_BUDGET_USD_PER_MONTH',
  tenantDayUsd: 'AI_BUDGET_USD_PER_TENANT_PER_DAY',
  tenantMonthUsd: 'AI_BUDGET_USD_PER_TENANT_PER_MONTH',
};
export const LIMIT_NAMES = Object.keys(LIMIT_VARIABLES) as LimitName[];

/**
 * One key per limit, so two operators changing two limits at once do not undo each other. No TTL:
 * it is configuration, kept until set back to the environment's (README, Scaling out on Redis).
 */
export const LIMIT_KEY_PREFIX = 'parley:budget:limit:';
/** Until the limits were read once, how soon a refused read is tried again (at the next check after it). */
const RETRY_UNREAD_MS = 1000;
/** A change is seen by every process within this (README: "within 5 s"). */
export const LIMITS_CACHE_MS = 5000;

/** What the console set: an amount, or null for no limit. */
interface Override {
  usd: number | null;
  setAt: string;
}
type Overrides = Partial<Record<LimitName, Override>>;

/** Where the budgets read their limits: fixed ones, or these. */
export interface LimitsSource {
  current(): Promise<Limits>;
}

/** The console's view of the limits: in force, where each comes from, the environment's, when set. */
export type LimitsView = Pick<BudgetsView, 'limits' | 'sources' | 'environment' | 'setAt'>;

/** A change made (null: no limit), as POST /console/api/budgets/limit answers it. */
export type LimitChange = BudgetLimitChange;

export class BudgetLimits implements LimitsSource {
  private readonly environment: Limits;
  private cached: { overrides: Overrides; at: number } | undefined;
  private reading: Promise<Overrides> | undefined;
  /** Changes this process made: a read begun before one must not put the old limits back. */
  private changes = 0;
  /** When the store last refused a read (a process that never read asks again RETRY_UNREAD_MS later). */
  private refusedAt = -Infinity;
  /** A store outage is logged once a minute, not every `cacheMs`. */
  private readonly unreadable: OutageLog;

  constructor(
    private readonly store: Store,
    environment: Pick<BudgetConfig, LimitName>,
    private readonly logger: Logger,
    private readonly cacheMs = LIMITS_CACHE_MS,
  ) {
    this.environment = Object.fromEntries(LIMIT_NAMES.filter((name) => environment[name] !== undefined).map((name) => [name, environment[name]]));
    this.unreadable = new OutageLog(
      logger,
      'could not read the budget limits set in the console; the last ones known apply (logged once a minute while it lasts)',
      'the budget limits set in the console can be read again',
    );
  }

  /** The limits in force, as this process last read them (at most `cacheMs` ago). */
  async current(): Promise<Limits> {
    return effective(this.environment, await this.overrides());
  }

  /** The limits in force, where each comes from, and the environment's, read afresh (the console's view). */
  async view(): Promise<LimitsView> {
    const overrides = await this.read();
    const sources = Object.fromEntries(LIMIT_NAMES.map((name) => [name, overrides[name] ? 'console' : 'environment'])) as Record<LimitName, LimitSource>;
    const setAt = Object.fromEntries(LIMIT_NAMES.flatMap((name) => (overrides[name] ? [[name, overrides[name].setAt]] : [])));
    return { limits: effective(this.environment, overrides), sources, environment: { ...this.environment }, setAt };
  }

  /** Set `name` to an amount, to no limit (null), or back to the environment's; every process applies it within `cacheMs`. */
  async set(name: LimitName, value: number | null | 'environment', now = new Date()): Promise<LimitChange> {
    const before = await this.read();
    const key = LIMIT_KEY_PREFIX + name;
    if (value === 'environment') await this.store.delete(key, { ackDeadline: false });
    else await this.store.set(key, JSON.stringify({ usd: value, setAt: now.toISOString() } satisfies Override));
    const after: Overrides = { ...before };
    if (value === 'environment') delete after[name];
    else after[name] = { usd: value, setAt: now.toISOString() };
    // This process applies it at once; the others at their next read.
    this.changes++;
    this.cached = { overrides: after, at: Date.now() };
    const change: LimitChange = {
      limit: name,
      variable: LIMIT_VARIABLES[name],
      oldUsd: effective(this.environment, before)[name] ?? null,
      newUsd: effective(this.environment, after)[name] ?? null,
      source: value === 'environment' ? 'environment' : 'console',
      effectiveFrom: now.toISOString(),
    };
    this.logger.info(change, `AI budget ${LIMIT_VARIABLES[name]} changed from the console; every process applies it within ${this.cacheMs / 1000} s`);
    return change;
  }

  private overrides(): Promise<Overrides> {
    if (this.cached && Date.now() - this.cached.at < this.cacheMs) return Promise.resolve(this.cached.overrides);
    // Never read, and the store refused less than a second ago: the environment's, without asking again at every check.
    if (!this.cached && !this.reading && Date.now() - this.refusedAt < RETRY_UNREAD_MS) return Promise.resolve({});
    const changes = this.changes;
    this.reading ??= this.read()
      .then(
        (overrides) => {
          this.unreadable.worked();
          return overrides;
        },
        (error: unknown) => {
          this.refusedAt = Date.now();
          this.readFailed(error);
          return undefined;
        },
      )
      .then((read) => {
        // Read before a change made here meanwhile: that change is newer.
        if (this.changes !== changes && this.cached) return this.cached.overrides;
        // Never read (started while the store could not be read): nothing of the console's is known,
        // so the environment's apply and the next check asks again, not `cacheMs` later: a $0 set in
        // the console applies from the first check after the store answers.
        if (read === undefined && !this.cached) return {};
        // Else the last limits known stand until the store answers again (asked again after `cacheMs`).
        const overrides = read ?? this.cached!.overrides;
        this.cached = { overrides, at: Date.now() };
        return overrides;
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  private readFailed(error: unknown): void {
    // `applied`: what stands meanwhile, the limits last read or (none read yet) the environment's.
    this.unreadable.failed(error, { applied: this.cached ? 'last read' : 'environment' });
  }

  private async read(): Promise<Overrides> {
    const values = await Promise.all(LIMIT_NAMES.map((name) => this.store.get(LIMIT_KEY_PREFIX + name)));
    const overrides: Overrides = {};
    values.forEach((raw, i) => {
      const name = LIMIT_NAMES[i]!;
      if (raw === undefined) return;
      const parsed = parsedOverride(raw);
      if (parsed) overrides[name] = parsed;
      else this.logger.warn({ limit: name }, 'a budget limit in the store is not one the console wrote; the environment\'s applies');
    });
    return overrides;
  }
}

function effective(environment: Limits, overrides: Overrides): Limits {
  const limits: Limits = { ...environment };
  for (const name of LIMIT_NAMES) {
    const override = overrides[name];
    if (!override) continue;
    if (override.usd === null) delete limits[name];
    else limits[name] = override.usd;
  }
  return limits;
}

function parsedOverride(raw: string): Override | undefined {
  try {
    const value = JSON.parse(raw) as { usd?: unknown; setAt?: unknown };
    const usd = value.usd;
    if (usd !== null && !(typeof usd === 'number' && Number.isFinite(usd) && usd >= 0)) return undefined;
    return { usd, setAt: typeof value.setAt === 'string' ? value.setAt : '' };
  } catch {
    return undefined;
  }
}
