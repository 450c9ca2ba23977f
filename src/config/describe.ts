/**
 * Reading the adapter schema: `describeAdapterSchema()` renders the markdown field reference
 * embedded in docs/adapter.md (a test keeps the two in sync), and `schemaAt()` finds the schema
 * of a config path (used by validateConfig to list known keys).
 */
import { z } from 'zod';
import { adapterSchema } from './schema.js';

type Schema = z.core.$ZodType;

/** The parts of zod's internal definitions this file reads. */
interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
  entries?: Record<string, unknown>;
  defaultValue?: unknown;
  checks?: Array<{ _zod: { def: { check: string; value?: unknown; inclusive?: boolean } } }>;
}

const defOf = (s: Schema): Def => s._zod.def as unknown as Def;

interface Peeled {
  core: Schema;
  description?: string;
  defaultText?: string;
  hasDefault: boolean;
  defaultValue?: unknown;
  optional: boolean;
}

/**
 * Strips optional/default/prefault/pipe wrappers, collecting description and default on the way.
 * With a `value`, a discriminated union is narrowed to the option matching the value's tag.
 */
function peel(schema: Schema, value?: unknown): Peeled {
  const out: Peeled = { core: schema, hasDefault: false, optional: false };
  let s = schema;
  for (;;) {
    const meta = z.globalRegistry.get(s) as { description?: string; defaultText?: string } | undefined;
    out.description ??= meta?.description;
    out.defaultText ??= meta?.defaultText;
    const d = defOf(s);
    if ((d.type === 'default' || d.type === 'prefault') && !out.hasDefault) {
      out.hasDefault = true;
      out.defaultValue = d.defaultValue;
    }
    if (d.type === 'optional') out.optional = true;
    if (['default', 'prefault', 'optional', 'nullable', 'readonly'].includes(d.type) && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else if (d.type === 'union' && d.discriminator && value !== undefined) {
      const option = pickOption(d, value);
      if (!option) break;
      s = option;
    } else break;
  }
  out.core = s;
  return out;
}

function pickOption(d: Def, value: unknown): Schema | undefined {
  if (typeof value !== 'object' || value === null || !d.discriminator) return undefined;
  const tag = (value as Record<string, unknown>)[d.discriminator];
  return d.options?.find((o) => tagsOf(o, d.discriminator!).includes(tag));
}

function tagsOf(option: Schema, discriminator: string): unknown[] {
  const tagSchema = defOf(option).shape?.[discriminator];
  return tagSchema ? (defOf(peel(tagSchema).core).values ?? []) : [];
}

/** The (unwrapped) schema describing `path` in a config whose raw value is `raw`. */
export function schemaAt(path: readonly PropertyKey[], raw: unknown, root: Schema = adapterSchema): Schema | undefined {
  let s: Schema | undefined = root;
  let value = raw;
  for (const key of path) {
    const d = defOf(peel(s, value).core);
    if (d.type === 'object') s = d.shape?.[String(key)];
    else if (d.type === 'array') s = d.element;
    else if (d.type === 'record') s = d.valueType;
    else return undefined;
    if (!s) return undefined;
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return peel(s, value).core;
}

// ---------------------------------------------------------------- markdown

interface Row {
  field: string;
  type: string;
  default: string;
  description: string;
}

/** The markdown field reference of the adapter: one row per field, generated from the schema. */
export function describeAdapterSchema(): string {
  const rows: Row[] = [];
  for (const [key, child] of Object.entries(defOf(adapterSchema).shape ?? {})) walk(child, key, rows);
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| Field | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.field}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`),
  ].join('\n');
}

function walk(schema: Schema, field: string, rows: Row[], only?: string): void {
  const p = peel(schema);
  const d = defOf(p.core);
  const prefix = only ? `(only with ${only}) ` : '';
  rows.push({ field, type: `\`${typeText(p.core)}\``, default: defaultText(p), description: prefix + (p.description ?? '') });
  if (d.type === 'object') for (const [key, child] of Object.entries(d.shape ?? {})) walk(child, `${field}.${key}`, rows, only);
  if (d.type === 'union' && d.discriminator) walkVariants(d, field, rows);
  else if (d.type === 'union') walkForms(d, field, rows);
  if (d.type === 'array' && d.element) {
    const e = defOf(peel(d.element).core);
    if (e.type === 'object') for (const [key, child] of Object.entries(e.shape ?? {})) walk(child, `${field}[].${key}`, rows, only);
    if (e.type === 'union' && e.discriminator) walkVariants(e, `${field}[]`, rows);
    else if (e.type === 'union') walkForms(e, `${field}[]`, rows);
  }
}

/** Fields of a discriminated union: shared fields once, the others tagged with their variant. */
function walkVariants(d: Def, field: string, rows: Row[]): void {
  const disc = discriminatorOf(d);
  // A plain value (a string shorthand) among the variants has no fields to list.
  const options = objectOptions(d);
  if (!options.length) return;
  const shapes = options.map((o) => defOf(o).shape ?? {});
  const shared = new Set(Object.keys(shapes[0] ?? {}).filter((k) => k !== disc && shapes.every((s) => k in s)));
  const kinds = options.map((o) => tagsOf(o, disc).map((t) => `'${String(t)}'`).join(', '));
  const kindDocs = options.map((o, i) => `\`${kinds[i]}\`: ${peel(defOf(o).shape?.[disc] ?? o).description ?? ''}`);
  rows.push({ field: `${field}.${disc}`, type: `\`${kinds.join(' | ')}\``, default: '**required**', description: kindDocs.join(' ') });
  for (const key of shared) walk(shapes[0][key], `${field}.${key}`, rows);
  options.forEach((_, i) => {
    for (const [key, child] of Object.entries(shapes[i]))
      if (key !== disc && !shared.has(key)) walk(child, `${field}.${key}`, rows, `\`${disc}: ${kinds[i]}\``);
  });
}

/** A plain union (a short form or an object): the object form's fields, each once. */
function walkForms(d: Def, field: string, rows: Row[]): void {
  for (const o of d.options ?? []) {
    const od = defOf(peel(o).core);
    if (od.type === 'object') for (const [key, child] of Object.entries(od.shape ?? {})) walk(child, `${field}.${key}`, rows, `the object form`);
  }
}

function typeText(s: Schema): string {
  const d = defOf(s);
  switch (d.type) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return numberText(s, d);
    case 'enum':
      return Object.values(d.entries ?? {}).map((v) => `'${String(v)}'`).join(' | ');
    case 'literal':
      return (d.values ?? []).map((v) => `'${String(v)}'`).join(' | ');
    case 'array':
      return d.element ? `${elementText(d.element)}[]` : 'array';
    case 'record':
      return `Record<string, ${d.valueType ? typeText(peel(d.valueType).core) : 'unknown'}>`;
    case 'object':
      return 'object';
    case 'union':
      return variantsText(d);
    default:
      return d.type;
  }
}

function elementText(element: Schema): string {
  const core = peel(element).core;
  const d = defOf(core);
  return d.type === 'union' || d.type === 'enum' ? `(${typeText(core)})` : typeText(core);
}

/** Object variants of a union (a union may also accept a plain value, e.g. a path string). */
function objectOptions(d: Def): Schema[] {
  return (d.options ?? []).filter((o) => defOf(o).type === 'object');
}

/** The tag of a union: zod's discriminator, else the one key every object variant pins to a literal. */
function discriminatorOf(d: Def): string {
  if (d.discriminator) return d.discriminator;
  const shapes = objectOptions(d).map((o) => defOf(o).shape ?? {});
  const keys = Object.keys(shapes[0] ?? {}).filter((k) => shapes.every((s) => s[k] && defOf(peel(s[k]).core).type === 'literal'));
  return keys[0] ?? 'kind';
}

function variantsText(d: Def): string {
  const disc = discriminatorOf(d);
  // A plain union (no field tells its variants apart, e.g. a mode string or an object): each variant's type.
  if (!d.discriminator && !objectOptions(d).some((o) => defOf(o).shape?.[disc])) return (d.options ?? []).map((o) => typeText(peel(o).core)).join(' | ');
  return (d.options ?? [])
    .map((o) => {
      if (defOf(o).type !== 'object') return typeText(peel(o).core);
      const more = Object.keys(defOf(o).shape ?? {}).length > 1 ? ', …' : '';
      return `{ ${disc}: ${tagsOf(o, disc).map((t) => `'${String(t)}'`).join(', ')}${more} }`;
    })
    .join(' | ');
}

function numberText(s: Schema, d: Def): string {
  const parts = [(s as { isInt?: boolean }).isInt ? 'integer' : 'number'];
  for (const c of d.checks ?? []) {
    const { check, value, inclusive } = c._zod.def;
    if (check === 'greater_than') parts.push(`${inclusive ? '>=' : '>'} ${String(value)}`);
    if (check === 'less_than') parts.push(`${inclusive ? '<=' : '<'} ${String(value)}`);
  }
  return parts.length === 1 ? parts[0] : `${parts[0]} ${parts.slice(1).join(', ')}`;
}

function defaultText(p: Peeled): string {
  if (p.defaultText !== undefined) return `\`${p.defaultText}\``;
  if (p.hasDefault) {
    const v = p.defaultValue;
    const emptyObject = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
    // An object defaulting to {} is filled in by its fields' own defaults, listed below it.
    if (emptyObject && defOf(p.core).type === 'object') return '';
    return `\`${JSON.stringify(v)}\``;
  }
  return p.optional ? '—' : '**required**';
}
