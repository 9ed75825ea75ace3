/** Reading a parley server's Prometheus /metrics. */

/** A parley server's /metrics text. */
export async function fetchMetrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** The sum of every sample of a metric (all label sets) in /metrics text; `name` may carry labels. */
export function sumMetric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/**
 * What parley did with the events it acknowledged, from its /metrics: queued (the queue-depth gauge
 * is refreshed every 5 s, so this waits for a refresh), refused by the rate limit, dropped as
 * duplicates. For an ingress-only bench "delivered" is "queued": the acknowledgements measured are
 * real enqueues. Requests in flight when a round ends are sent and queued but not counted as
 * acknowledged, so queued may exceed acknowledged; beyond what was sent, it would be duplicates.
 */
export async function queuedAccounting(url: string, acknowledged: number, sent: number): Promise<string> {
  const waiting = 'parley_queue_depth{state="waiting"}';
  const deadline = Date.now() + 6_000;
  let text = '';
  while (Date.now() < deadline) {
    text = await fetchMetrics(url);
    if (sumMetric(text, waiting) >= acknowledged) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const queued = sumMetric(text, waiting);
  return (
    `delivered (ingress only: queued) ${queued} / lost ${Math.max(0, acknowledged - queued)} / duplicated ${Math.max(0, queued - sent)}` +
    ` of ${acknowledged} acknowledged, ${sent} sent (warm-up included);` +
    ` ${sumMetric(text, 'parley_rate_limited_total')} refused by the rate limit, ${sumMetric(text, 'parley_duplicates_dropped_total')} dropped as duplicates`
  );
}
