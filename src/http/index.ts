export { createRouter, type Router, type RouterDeps } from './router.js';
export { ackBudgetMs } from './ack-budget.js';
export { createNodeMiddleware, writeResponse, type NodeMiddleware } from './node.js';
export { createFetchHandler, type FetchHandler, type FetchInfo } from './fetch.js';
export { json, jsonError } from './responses.js';
export { logRefusal } from './refusals.js';
export { requestUrl } from './url.js';
export { isLoopbackHost } from './address.js';
export { escapeHtml, readCookie, readCookies } from './cookies.js';
