/**
 * What to do about an AWS error when the error is about the caller, not the service: no region,
 * no credentials, credentials AWS refused, or a permission they lack. The SDK's own words ("Region
 * is missing", "Could not load credentials from any providers") name no setting. Never quotes a
 * credential: only the names of the variables that hold them.
 */
const CREDENTIALS = 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE';

/** AWS's names for credentials it does not take (DynamoDB, SQS's JSON and query protocols, STS). */
const REFUSED = /^(UnrecognizedClientException|InvalidClientTokenId|InvalidSignatureException|SignatureDoesNotMatch|IncompleteSignature|InvalidAccessKeyId|ExpiredToken|ExpiredTokenException|RequestExpired|MissingAuthenticationToken)$/;
const DENIED = /^(AccessDenied|AccessDeniedException)$/;

/** Errors whose message already ends with their fix (explained by a client's middleware). */
const explained = new WeakSet<Error>();

/** The fix for `error`, in brackets after its text; '' when it is not the caller's to fix, or its message has it already. */
export function awsErrorFix(error: Error): string {
  if (explained.has(error)) return '';
  if (/^Region is missing/.test(error.message)) return ' (set AWS_REGION, e.g. AWS_REGION=us-east-1: the region of the tables and the queue)';
  if (error.name === 'CredentialsProviderError') return ` (no AWS credentials found: set ${CREDENTIALS}; on Lambda the function's role gives them)`;
  if (REFUSED.test(error.name)) return ` (AWS refused the credentials: check ${CREDENTIALS}, and that AWS_REGION is the region of the tables and the queue)`;
  if (DENIED.test(error.name)) return " (the credentials lack a permission parley needs: see the IAM statements in examples/aws/serverless.yml)";
  return '';
}

/**
 * A client middleware (initialize: the outermost step, so it sees the error the retries ended
 * with): a failed call's error carries its fix in its message. The queue's and the store's errors
 * reach logs and /readyz far from any AWS code (serve, worker, Lambda) and should say what
 * `parley check` says.
 */
export function explainCallerErrors<A, R>(next: (args: A) => Promise<R>): (args: A) => Promise<R> {
  return async (args) => {
    try {
      return await next(args);
    } catch (error) {
      if (error instanceof Error) {
        const fix = awsErrorFix(error);
        if (fix) {
          error.message += fix;
          explained.add(error);
        }
      }
      throw error;
    }
  };
}

/** Where explainCallerErrors goes in a client's middleware stack. */
export const EXPLAIN_CALLER_ERRORS = { step: 'initialize', name: 'parleyExplainCallerErrors' } as const;
