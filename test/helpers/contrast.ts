/** Shared by the browser tests that check colours. */

/**
 * The contrast ratio (WCAG 2) of an element's text (or its ::placeholder) on what is behind it: its
 * colour faded by its and its ancestors' opacity, on the first opaque background up the tree.
 * (A string: this file compiles without the DOM's types.)
 */
export const contrastOf = (selector: string, pseudo = '') => `(() => {
  const rgba = (c) => { const [r, g, b, a = 1] = c.match(/[\\d.]+/g).map(Number); return [r, g, b, a]; };
  const over = (top, under) => top.slice(0, 3).map((c, i) => c * top[3] + under[i] * (1 - top[3]));
  const el = document.querySelector(${JSON.stringify(selector)});
  let fg = rgba(getComputedStyle(el, ${JSON.stringify(pseudo || null)}).color);
  const layers = [];
  for (let node = el; node; node = node.parentElement) {
    fg[3] *= Number(getComputedStyle(node).opacity);
    const bg = rgba(getComputedStyle(node).backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] === 1) break;
  }
  let back = [255, 255, 255];
  for (const layer of layers.reverse()) back = over(layer, back);
  const front = over(fg, back);
  const lum = (rgb) => { const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [a, b] = [lum(front), lum(back)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
})()`;
