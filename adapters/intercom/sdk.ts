/**
 * intercom-client is an optional peer dependency, loaded when intercomAdapter() is first called
 * (see src/optional-dependency.ts), so importing this adapter costs nothing in a web-only app.
 */
import type * as Intercom from 'intercom-client';
import { requireOptional } from 'parley/adapter-kit';

/** The Intercom SDK; throws MissingDependencyError naming `npm install intercom-client` if it is missing. */
export function intercomSdk(neededBy = 'intercomAdapter()'): typeof Intercom {
  return requireOptional<typeof Intercom>('intercom-client', neededBy);
}
