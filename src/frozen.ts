/**
 * Whether this process is a serverless function frozen as soon as it has answered (AWS Lambda):
 * work left for after the answer would run late or never, and buffered output would be lost.
 */
export function frozenOnceAnswered(): boolean {
  return Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME);
}
