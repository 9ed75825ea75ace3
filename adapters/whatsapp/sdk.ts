/**
 * The twilio SDK is an optional peer dependency, loaded when whatsappAdapter() is first called
 * (see src/optional-dependency.ts), so importing this adapter costs nothing in a web-only app.
 */
import type twilio from 'twilio';
import { requireOptional } from 'parley/adapter-kit';

/** The twilio SDK; throws MissingDependencyError naming `npm install twilio` if it is missing. */
export function twilioSdk(neededBy = 'whatsappAdapter()'): typeof twilio {
  return requireOptional<typeof twilio>('twilio', neededBy);
}
