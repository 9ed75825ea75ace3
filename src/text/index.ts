export { splitMessage } from './split.js';
