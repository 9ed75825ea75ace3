/**
 * Optional peer dependencies (an adapter's SDK, the cloud SDKs): an app installs only those it
 * uses. Whoever needs one loads it here when it is first used, never at import time, so importing
 * a module that may need it always works and using it without it says what to install. Loading is
 * synchronous (require), so factories stay synchronous.
 */
import { createRequire } from 'node:module';
import { MissingDependencyError } from './errors.js';

// Resolved from parley's own folder, so the app's node_modules (where peers live) is searched.
const requireFromParley = createRequire(import.meta.url);

/**
 * Load an optional package for `neededBy` (the factory that needs it, e.g. "myAdapter()"). If it is not installed, throws
 * MissingDependencyError naming every package of `installTogether` that is missing, so one
 * `npm install` fixes it.
 */
export function requireOptional<T>(name: string, neededBy: string, installTogether: readonly string[] = [name]): T {
  try {
    return requireFromParley(name) as T;
  } catch (error) {
    if (!isNotFound(error, name)) throw error;
    requireInstalled(installTogether, neededBy);
    throw new MissingDependencyError(name, neededBy);
  }
}

/**
 * Throws MissingDependencyError naming every package of `names` that is not installed, without
 * loading any: for a factory that loads its packages later, when first used, but should say at
 * once what to install.
 */
export function requireInstalled(names: readonly string[], neededBy: string): void {
  const missing = names.filter((name) => !isInstalled(name));
  if (missing.length > 0) throw new MissingDependencyError(missing.join(' '), neededBy);
}

function isInstalled(name: string): boolean {
  try {
    requireFromParley.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Only the package itself missing; a broken install of it (one of its own files missing) is rethrown. */
function isNotFound(error: unknown, name: string): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.startsWith(`Cannot find module '${name}'`);
}
