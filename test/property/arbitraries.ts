/**
 * fast-check arbitraries for malformed webhook payloads, written by hand (zod-fast-check does not
 * support zod 4, and the point is to go beyond the schema anyway): valid payloads from the test
 * helpers, mutated — wrong types, missing fields, nulls, huge strings, nested garbage — plus
 * bodies that are not a JSON object at all and broken form encodings.
 */
import fc from 'fast-check';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A string far longer than any id or name, yet small enough that four of them, JSON-escaped and
 * form-encoded, stay under the default 1 MiB body limit (a 413 is not what is under test).
 */
const hugeString = fc
  .record({ bytes: fc.integer({ min: 20_000, max: 120_000 }), unit: fc.constantFrom('x', 'é', '😀', '\u0000', '%', '"') })
  .map(({ bytes, unit }) => unit.repeat(Math.ceil(bytes / (encodeURIComponent(JSON.stringify(unit)).length - 6))));

/** What a broken sender puts where a field should be. */
export const wrongValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(-0), fc.constant(1e308)) },
  { weight: 3, arbitrary: fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', ' ', 'null', '[object Object]', '__proto__')) },
  { weight: 1, arbitrary: hugeString },
  { weight: 2, arbitrary: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) as fc.Arbitrary<Json> },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.constantFrom<Json>({}, [], [null], { id: null }, { type: 7 }) },
);

type Operation = 'delete' | 'replace' | 'null' | 'wrap' | 'stringify' | 'empty';

interface Mutation {
  at: number;
  op: Operation;
  value: Json;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom<Operation>('delete', 'replace', 'replace', 'null', 'wrap', 'stringify', 'empty'),
  value: wrongValue,
});

/** Every place in a JSON tree (parent and key), top level first. */
function places(root: Json): { parent: Record<string, Json> | Json[]; key: string | number }[] {
  const found: { parent: Record<string, Json> | Json[]; key: string | number }[] = [];
  const visit = (node: Json) => {
    if (node === null || typeof node !== 'object') return;
    const children: [string | number, Json][] = Array.isArray(node) ? node.map((child, index) => [index, child]) : Object.entries(node);
    for (const [key, child] of children) {
      found.push({ parent: node, key });
      visit(child);
    }
  };
  visit(root);
  return found;
}

function apply(root: Json, { at, op, value }: Mutation): void {
  const all = places(root);
  if (all.length === 0) return;
  // Favour the top levels, where the fields parley and Bolt read live.
  const place = all[at % Math.min(all.length, at % 3 === 0 ? all.length : 24)]!;
  const parent = place.parent as Record<string | number, Json>;
  const current = parent[place.key] as Json;
  if (op === 'delete') {
    if (Array.isArray(place.parent)) place.parent.splice(place.key as number, 1);
    else delete parent[place.key];
  } else if (op === 'null') parent[place.key] = null;
  else if (op === 'wrap') parent[place.key] = [current];
  else if (op === 'stringify') parent[place.key] = JSON.stringify(current) ?? 'undefined';
  else if (op === 'empty') parent[place.key] = Array.isArray(current) ? [] : typeof current === 'object' && current !== null ? {} : '';
  // A copy: fast-check hands out the same constant objects ([null], {}) again and again, and one
  // placed inside itself by a later mutation would make the payload a cycle.
  else parent[place.key] = structuredClone(value);
}

/** A valid payload (built fresh each time) with one to four mutations. */
export function mutated(valid: fc.Arbitrary<() => object>): fc.Arbitrary<object> {
  return fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([build, mutations]) => {
    const payload = build() as Json;
    for (const m of mutations) apply(payload, m);
    return payload as object;
  });
}

/** A JSON text that is not an object: an array, a string, a number, null. */
export const nonObjectJson: fc.Arbitrary<string> = fc
  .oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string(), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }))
  .map((value) => JSON.stringify(value));

/** Text that is not JSON: a valid payload cut short or with garbage after it, or just noise. */
export function brokenJson(valid: fc.Arbitrary<() => object>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(valid, fc.nat()).map(([build, cut]) => {
      const text = JSON.stringify(build());
      return text.slice(0, cut % text.length);
    }),
    fc.tuple(valid, fc.constantFrom('}', ']', ',', '{"x":1}', 'garbage', '\u0000')).map(([build, tail]) => JSON.stringify(build()) + tail),
    fc.constantFrom('', ' ', '{', '{"a":', "{'single': 'quotes'}", '\ufeff{}', 'NaN', 'undefined', '{"a":1,}'),
    fc.string(),
  );
}

/** A JSON body for a route: mostly mutated valid payloads, some non-objects and broken texts. */
export function malformedJson(valid: fc.Arbitrary<() => object>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: mutated(valid).map((payload) => JSON.stringify(payload)) },
    { weight: 1, arbitrary: nonObjectJson },
    { weight: 1, arbitrary: brokenJson(valid) },
  );
}

/** A form's fields, mutated: fields dropped, emptied, repeated, replaced with odd text, fields added. */
export function mutatedForm(valid: fc.Arbitrary<() => Record<string, string>>): fc.Arbitrary<Record<string, string | string[]>> {
  const formValue = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), hugeString, fc.constantFrom('', '0', '-1', '21', '1e3', 'null', '%ZZ', '&=&'));
  const change = fc.record({ at: fc.nat(), op: fc.constantFrom('delete', 'empty', 'repeat', 'replace', 'replace', 'add'), value: formValue, name: fc.string({ maxLength: 20 }) });
  return fc.tuple(valid, fc.array(change, { minLength: 1, maxLength: 4 })).map(([build, changes]) => {
    const form: Record<string, string | string[]> = build();
    for (const { at, op, value, name } of changes) {
      const names = Object.keys(form);
      const key = names.length > 0 ? names[at % names.length]! : name;
      if (op === 'delete') delete form[key];
      else if (op === 'empty') form[key] = '';
      else if (op === 'repeat') form[key] = [String(form[key] ?? ''), value];
      else if (op === 'add') form[name] = value;
      else form[key] = value;
    }
    return form;
  });
}

/** A form's fields as a body; a field given as a list is sent once per value. */
export function encodeForm(fields: Record<string, string | string[]>): string {
  return new URLSearchParams(Object.entries(fields).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v): [string, string] => [name, v]))).toString();
}

/** Raw form bodies no encoder would produce: broken %-escapes, stray separators, bytes that are not UTF-8 text. */
export const brokenFormEncoding: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%', '%E0%A4%A', 'Body=%ZZ&From=x', '=&=&==', '&&&', 'a=1&a', '%00=%00', 'MessageSid=SM1&Body=%F0%9F%98', '+%2B+=+'),
  fc.string().map((s) => `${s}%${s}`),
  fc.string({ unit: 'binary' }),
);
