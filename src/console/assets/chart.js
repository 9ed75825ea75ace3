/** The overview's chart: the last 60 minutes' messages as bars, drawn in SVG. */
import { $, setText, svg } from './dom.js';
import { clock, fmtInt, isNumber, minuteDate } from './format.js';

/**
 * A minute's messages by how they ended, each counted once: a message given up is dead-lettered
 * and apologised both, so the dead-lettered part is only those that got no apology.
 */
function minuteOutcomes(m) {
  const count = (n) => (isNumber(n) ? n : 0);
  const apologised = count(m.apologised);
  return { answered: count(m.answered), apologised, deadLettered: Math.max(0, count(m.deadLettered) - apologised) };
}

/** The last 60 minutes as bars: received behind, answered / apologised / dead-lettered (no apology) stacked in front. */
export function renderChart(minutes) {
  const width = 600;
  const height = 120;
  const slot = width / Math.max(minutes.length, 60);
  let peak = 0;
  for (const m of minutes) {
    const ended = minuteOutcomes(m);
    peak = Math.max(peak, m.received ?? 0, ended.answered + ended.apologised + ended.deadLettered);
  }
  const scale = (n) => (peak > 0 ? ((isNumber(n) ? n : 0) / peak) * (height - 4) : 0);
  const total = minutes.reduce((sum, m) => sum + (m.received ?? 0), 0);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'chart', role: 'img' });
  chart.setAttribute('aria-label', `${total} messages received in the last ${minutes.length} minutes, at most ${peak} in a minute`);
  chart.append(svg('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'axis' }));
  minutes.forEach((m, i) => {
    const x = i * slot;
    const group = svg('g', {});
    const title = svg('title', {});
    title.textContent = `${clock.format(minuteDate(m.minute))}: received ${m.received ?? 0}, answered ${m.answered ?? 0}, apologised ${m.apologised ?? 0}, dead-lettered ${m.deadLettered ?? 0}`;
    group.append(title);
    const received = scale(m.received);
    group.append(svg('rect', { x: x + 1, y: height - received, width: Math.max(slot - 2, 1), height: received, class: 'received' }));
    let base = height;
    const ended = minuteOutcomes(m);
    for (const [key, cls] of [['answered', 'answered'], ['apologised', 'apologised'], ['deadLettered', 'dead']]) {
      const h = scale(ended[key]);
      if (h <= 0) continue;
      base -= h;
      group.append(svg('rect', { x: x + 2.5, y: base, width: Math.max(slot - 5, 1), height: h, class: cls }));
    }
    // a transparent hit area, so the title shows anywhere in the column
    group.append(svg('rect', { x, y: 0, width: slot, height, fill: 'transparent' }));
    chart.append(group);
  });
  $('chart').replaceChildren(chart);
  setText($('chart-peak'), minutes.length ? `peak ${fmtInt(peak)}/min · ${clock.format(minuteDate(minutes[0].minute))} → now` : 'no data');
}
