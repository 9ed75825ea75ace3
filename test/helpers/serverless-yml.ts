/**
 * examples/aws/serverless.yml as the tests read it: parsed with js-yaml (eslint's own YAML reader),
 * CloudFormation's short tags (!Ref, !GetAtt, !Sub) kept as their long forms.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface JsYaml {
  Type: new (tag: string, options: { kind: 'scalar' | 'sequence' | 'mapping'; construct: (data: unknown) => unknown }) => unknown;
  DEFAULT_SCHEMA: { extend(types: unknown[]): unknown };
  load(text: string, options: { schema: unknown }): unknown;
}

export const exampleDir = fileURLToPath(new URL('../../examples/aws/', import.meta.url));
export const serverlessYmlPath = `${exampleDir}serverless.yml`;

export interface ServerlessYml {
  provider: {
    environment: Record<string, unknown>;
    iam: { role: { statements: { Effect: string; Action: string | string[]; Resource: unknown }[] } };
  };
  build: { esbuild: Record<string, unknown> };
  functions: Record<string, { handler: string; events: Record<string, unknown>[] }>;
  resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
}

export function serverlessYml(): ServerlessYml {
  const yaml = createRequire(import.meta.url)('js-yaml') as JsYaml;
  const tag = (name: string, long: string) => new yaml.Type(name, { kind: 'scalar', construct: (data) => ({ [long]: data }) });
  const schema = yaml.DEFAULT_SCHEMA.extend([tag('!Ref', 'Ref'), tag('!GetAtt', 'Fn::GetAtt'), tag('!Sub', 'Fn::Sub')]);
  return yaml.load(readFileSync(serverlessYmlPath, 'utf8'), { schema }) as ServerlessYml;
}
