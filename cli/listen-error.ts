/**
 * Why `parley serve` could not open its port, as one line naming PORT or HOST and the fix: a
 * busy port or a mistyped address is the operator's to fix, not a Node stack trace.
 */

/** A server that could not listen, for the command to print as one line (exit 1). */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** The line for an error from listen(port, host), or undefined when it is not one of the operator's. */
export function listenProblem(error: unknown, port: number, host: string): string | undefined {
  const code = (error as { code?: string } | undefined)?.code;
  const fixHost = 'Fix: set HOST to an address of this machine, e.g. HOST=127.0.0.1 (this machine only) or HOST=0.0.0.0 (every interface)';
  switch (code) {
    case 'EADDRINUSE':
      return `PORT=${port} is already in use on HOST=${host}: another process listens there. Fix: stop it, or set PORT to a free TCP port, e.g. PORT=${port === 3000 ? 3001 : 3000}.`;
    case 'EACCES':
      return `PORT=${port} may not be opened by this user (ports below 1024 need privileges). Fix: set PORT to 1024 or above, e.g. PORT=3000, behind a proxy on the low port.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `HOST=${host} is not an address or a name this machine resolves. ${fixHost}.`;
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return `HOST=${host} is not an address of this machine. ${fixHost}.`;
    default:
      return undefined;
  }
}
