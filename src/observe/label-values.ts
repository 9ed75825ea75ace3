/**
 * Metric labels whose values come from outside parley: the model a provider (or a proxy) says
 * answered, a platform's error code in a dead letter's reason. Each distinct value is a series
 * Prometheus keeps, so a server that names a new model per answer, or an API that puts text in
 * its error code, would grow the scrape and the TSDB without end. The known values are kept as
 * they are; the first MAX_OUTSIDE_VALUES others too (the operator sees them); past those, and any
 * value not shaped like a name, the label reads `other`, as Bolt and prom-client advise.
 */
import type { Counter } from 'prom-client';

/** Distinct values from outside kept per label (known values do not count). */
export const MAX_OUTSIDE_VALUES = 20;
export const OTHER = 'other';
/** What a model name or an error code looks like: anything else (a sentence, a page) is `other`. */
const NAME = /^[\w.:/@+-]{1,100}$/;

export class LabelValues {
  private readonly kept: Set<string>;
  private others = 0;

  constructor(known: Iterable<string> = [], private readonly maxOthers = MAX_OUTSIDE_VALUES) {
    this.kept = new Set(known);
  }

  know(...values: (string | undefined)[]): void {
    for (const value of values) if (value) this.kept.add(value);
  }

  of(value: string): string {
    if (this.kept.has(value)) return value;
    if (this.others >= this.maxOthers || !NAME.test(value)) return OTHER;
    this.others++;
    this.kept.add(value);
    return value;
  }
}

type Labels = Partial<Record<string, string | number>>;

/** `counter` with the named labels passed through their LabelValues on every inc(labels, value). */
export function boundLabels<C extends Counter<string>>(counter: C, bounds: Record<string, LabelValues>): C {
  const inc = counter.inc.bind(counter) as (labels?: Labels | number, value?: number) => void;
  counter.inc = ((labels?: Labels | number, value?: number) => {
    if (typeof labels !== 'object') return inc(labels, value);
    const copy = { ...labels };
    for (const [name, values] of Object.entries(bounds)) if (copy[name] !== undefined) copy[name] = values.of(String(copy[name]));
    inc(copy, value);
  }) as C['inc'];
  return counter;
}
