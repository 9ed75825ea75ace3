/**
 * The AWS SDK for JavaScript (v3) prints a nine-line NodeVersionSupportWarning on Node before 22
 * (its releases after the first week of January 2027 need Node 22). parley supports Node 20
 * (package.json engines), so the CLI, which owns its process, turns that one warning off with the
 * SDK's own switch (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true, aws-sdk-js-v3#7983) and
 * says it in one line. Only on Node before 22, where this is the SDK's one such warning: a later
 * one (on Node 22) is left to the SDK. The library never sets it: an app embedding parley keeps the
 * SDK's behaviour it chose.
 */

export const AWS_NODE_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
/** The Node major the SDK asks for. */
const SDK_NODE_MAJOR = 22;

/**
 * For a command about to use the AWS SDK: turn its Node version warning off in `env` and return
 * parley's one line instead; undefined (and `env` unchanged) on Node 22 or later, or when the
 * operator has set the switch themselves (`false` shows the SDK's own warning).
 */
export function quietAwsNodeWarning(env: NodeJS.ProcessEnv, nodeVersion: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(nodeVersion)?.[1]);
  if (!(major < SDK_NODE_MAJOR) || env[AWS_NODE_WARNING_SWITCH] !== undefined) return undefined;
  env[AWS_NODE_WARNING_SWITCH] = 'true';
  return `parley: note: the AWS SDK's releases after early January 2027 need Node ${SDK_NODE_MAJOR} (this is Node ${nodeVersion}); ${AWS_NODE_WARNING_SWITCH}=false shows the SDK's own warning`;
}
