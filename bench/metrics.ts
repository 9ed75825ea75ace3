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
