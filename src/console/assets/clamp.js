/* global ResizeObserver */
/**
 * Long text in a table cell (a pasted log, a question of pages, a stack trace) clamped to a few
 * lines, so one row cannot fill the screen: "show all" opens it, "show less" closes it again. The
 * whole text is always in the page (as text, never HTML), so it reads out and copies as it is.
 */
import { el } from './dom.js';

const SHOW_ALL = 'show all';
const SHOW_LESS = 'show less';
let seq = 0;

/**
 * The button shows only when the text is cut. Measured, not guessed from its length: how much fits
 * depends on the cell's width, and a box on a hidden tab has no size until the tab is shown.
 */
const observer = new ResizeObserver((entries) => {
  // All measured first, then all shown or hidden: a measure after each change would lay the whole
  // table out again for every box (8 s for 1,000 long letters, against 0.1 s).
  const cut = entries.map(({ target }) => [target, target.scrollHeight > target.clientHeight + 1]);
  for (const [box, isCut] of cut) fit(box, isCut);
});

function fit(box, isCut) {
  const toggle = box.nextElementSibling;
  if (!toggle || box.classList.contains('open')) return;
  toggle.hidden = !isCut;
}

/** Stops measuring every box made so far: call it before their rows are replaced. */
export function forgetClamped() {
  observer.disconnect();
}

/**
 * A cell's text, clamped, with its toggle. `open`: it starts opened (it was before a reload);
 * `onToggle(open)` hears each change. `testid` names the toggle.
 */
export function clampedText(text, { open = false, onToggle, testid } = {}) {
  const id = `clamped-${++seq}`;
  const box = el('div', { id, className: open ? 'clamp open' : 'clamp', text });
  const toggle = el('button', { type: 'button', className: 'small link clamp-toggle', testid, 'aria-controls': id, 'aria-expanded': String(open), hidden: !open, text: open ? SHOW_LESS : SHOW_ALL });
  toggle.addEventListener('click', () => {
    const opening = !box.classList.contains('open');
    box.classList.toggle('open', opening);
    toggle.setAttribute('aria-expanded', String(opening));
    toggle.textContent = opening ? SHOW_LESS : SHOW_ALL;
    onToggle?.(opening);
  });
  observer.observe(box);
  return [box, toggle];
}
