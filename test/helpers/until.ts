/** Poll `read` until it returns something truthy, and return that; fail naming `what` after `timeoutMs`. */
export async function until<T>(read: () => T | Promise<T>, what: string, timeoutMs = 8000): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value as Exclude<T, undefined | null | false | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
