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
export { isWellFormed, wellFormed, wellFormedChunks } from './well-formed.js';
