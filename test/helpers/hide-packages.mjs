/**
 * Loaded with `node --import` into a parley process: the packages named in
 * PARLEY_TEST_HIDE_PACKAGES (comma-separated) resolve as if not installed, so a test can run the
 * CLI as a web-only install would, in this repository where every SDK is installed. parley loads
 * optional SDKs with require (createRequire), which resolves through Module._resolveFilename.
 */
import Module from 'node:module';

const hidden = new Set((process.env.PARLEY_TEST_HIDE_PACKAGES ?? '').split(',').filter(Boolean));
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (hidden.has(request)) {
    const error = new Error(`Cannot find module '${request}'`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
