import { nothingShown } from './errors.js';

/** The whole text of an AI stream, none of it shown: a failure mid-way is one that may simply be asked again (nothingShown). */
export async function collectShowingNothing(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  try {
    for await (const chunk of chunks) text += chunk;
  } catch (error) {
    throw nothingShown(error);
  }
  return text;
}
