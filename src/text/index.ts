export { splitMessage } from './split.js';
export { continuationOf } from './continuation.js';
export {
  renderMarkdown,
  renderInline,
  emphasis,
  openingFence,
  closingFence,
  isRule,
  headingTitle,
  type MarkdownRenderer,
  type InlineRenderer,
  type EmphasisMarks,
  type Fence,
} from './markdown.js';
// Linear-time `replace` for delimited spans (an opener without a closer must not rescan the line).
export { replaceSpans } from './spans.js';
export { isWellFormed, wellFormed, wellFormedChunks } from './well-formed.js';
