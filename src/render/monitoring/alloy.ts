import type { CoreModel } from '../../model/core.ts';
import type { MonitoringModel } from '../../model/monitoring.ts';
import { type RenderedFile, textFile } from '../file.ts';

type Input = CoreModel & { monitoring: MonitoringModel };

// ---------------------------------------------------------------------------------------------------------
// A small typed model of Alloy's configuration syntax and its printer.
// Values: strings, numbers, booleans, lists, objects and references to other components' exports.
// Statements: attributes (`name = value`), blocks (`name "label" { ... }`) and line comments.
// ---------------------------------------------------------------------------------------------------------

export interface AlloyRef {
  readonly kind: 'ref';
  /** Dotted path such as `loki.write.default.receiver`. */
  readonly path: string;
}
export interface AlloyObject {
  readonly kind: 'object';
  readonly entries: readonly (readonly [string, AlloyValue])[];
}
export type AlloyValue = string | number | boolean | AlloyRef | AlloyObject | readonly AlloyValue[];

export interface AlloyAttribute {
  readonly kind: 'attribute';
  readonly name: string;
  readonly value: AlloyValue;
}
export interface AlloyBlock {
  readonly kind: 'block';
  readonly name: string;
  readonly label?: string;
  readonly body: readonly AlloyStatement[];
}
export interface AlloyComment {
  readonly kind: 'comment';
  readonly text: string;
}
export type AlloyStatement = AlloyAttribute | AlloyBlock | AlloyComment;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function ref(path: string): AlloyRef {
  if (!DOTTED.test(path) || !path.includes('.'))
    throw new Error(`alloy: bad reference ${JSON.stringify(path)}`);
  return { kind: 'ref', path };
}
/** An object literal; entries keep the given order. */
export const object = (entries: Record<string, AlloyValue>): AlloyObject => ({
  kind: 'object',
  entries: Object.entries(entries),
});
export function attr(name: string, value: AlloyValue): AlloyAttribute {
  if (!IDENT.test(name)) throw new Error(`alloy: bad attribute name ${JSON.stringify(name)}`);
  return { kind: 'attribute', name, value };
}
export function block(name: string, label: string | undefined, body: readonly AlloyStatement[]): AlloyBlock {
  if (!DOTTED.test(name)) throw new Error(`alloy: bad block name ${JSON.stringify(name)}`);
  if (label !== undefined && !IDENT.test(label))
    throw new Error(`alloy: bad block label ${JSON.stringify(label)}`);
  return label === undefined ? { kind: 'block', name, body } : { kind: 'block', name, label, body };
}
export function comment(text: string): AlloyComment {
  if (/[\r\n]/.test(text)) throw new Error('alloy: a comment is one line');
  return { kind: 'comment', text };
}
/** A component's export, e.g. `exportOf(write, 'receiver')` -> `loki.write.default.receiver`. */
export function exportOf(component: AlloyBlock, field: string): AlloyRef {
  if (component.label === undefined) throw new Error(`alloy: ${component.name} has no label`);
  return ref(`${component.name}.${component.label}.${field}`);
}

const INLINE_WIDTH = 100;
const INDENT = '  ';

/** Alloy string literals use Go-style escapes, which JSON's cover. */
const quote = (s: string) => JSON.stringify(s);

const isRef = (v: AlloyValue): v is AlloyRef =>
  typeof v === 'object' && !Array.isArray(v) && (v as AlloyRef).kind === 'ref';
const isObject = (v: AlloyValue): v is AlloyObject =>
  typeof v === 'object' && !Array.isArray(v) && (v as AlloyObject).kind === 'object';

function inline(value: AlloyValue): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`alloy: cannot write the number ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (isRef(value)) return value.path;
  if (isObject(value)) {
    return value.entries.length === 0
      ? '{}'
      : `{${value.entries.map(([k, v]) => `${quote(k)} = ${inline(v)}`).join(', ')}}`;
  }
  return `[${(value as readonly AlloyValue[]).map(inline).join(', ')}]`;
}

/** A value at the given indentation depth: inline when short, else one element or entry per line. */
function printValue(value: AlloyValue, depth: number): string {
  const flat = inline(value);
  const pad = INDENT.repeat(depth);
  if (flat.length + pad.length <= INLINE_WIDTH || !(Array.isArray(value) || isObject(value))) return flat;
  const inner = INDENT.repeat(depth + 1);
  if (isObject(value)) {
    const lines = value.entries.map(([k, v]) => `${inner}${quote(k)} = ${printValue(v, depth + 1)},`);
    return `{\n${lines.join('\n')}\n${pad}}`;
  }
  const lines = (value as readonly AlloyValue[]).map((v) => `${inner}${printValue(v, depth + 1)},`);
  return `[\n${lines.join('\n')}\n${pad}]`;
}

function printBody(statements: readonly AlloyStatement[], depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const out: string[] = [];
  let i = 0;
  while (i < statements.length) {
    const s = statements[i] as AlloyStatement;
    if (s.kind === 'attribute') {
      // Consecutive attributes align their `=` (as `alloy fmt` does).
      const run: AlloyAttribute[] = [];
      while (i < statements.length && (statements[i] as AlloyStatement).kind === 'attribute') {
        run.push(statements[i] as AlloyAttribute);
        i++;
      }
      const width = Math.max(...run.map((a) => a.name.length));
      for (const a of run) out.push(`${pad}${a.name.padEnd(width)} = ${printValue(a.value, depth)}`);
      continue;
    }
    if (s.kind === 'comment') {
      out.push(`${pad}// ${s.text}`);
    } else {
      const head = s.label === undefined ? s.name : `${s.name} ${quote(s.label)}`;
      if (s.body.length === 0) out.push(`${pad}${head} {}`);
      else out.push(`${pad}${head} {`, ...printBody(s.body, depth + 1), `${pad}}`);
    }
    i++;
  }
  return out;
}

/** Prints a configuration file: top-level statements separated by blank lines (comments stick to what follows). */
export function printAlloy(statements: readonly AlloyStatement[]): string {
  const chunks: string[] = [];
  let pending: string[] = [];
  for (const s of statements) {
    const lines = printBody([s], 0);
    if (s.kind === 'comment') {
      pending.push(...lines);
      continue;
    }
    chunks.push([...pending, ...lines].join('\n'));
    pending = [];
  }
  if (pending.length > 0) chunks.push(pending.join('\n'));
  return `${chunks.join('\n\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// monitoring/alloy/config.alloy: Grafana Alloy replaces Promtail (end of life 2 March 2026).
// ---------------------------------------------------------------------------------------------------------

export function alloyConfig(model: Input): AlloyStatement[] {
  const m = model.monitoring;
  const dockerHost = `unix://${m.containerPaths.dockerSocket}`;
  const loki = m.addresses.loki;

  const write = block('loki.write', 'default', [
    block('endpoint', undefined, [attr('url', `http://${loki.host}:${loki.port}/loki/api/v1/push`)]),
  ]);
  const receivers = [exportOf(write, 'receiver')];

  const discovery = block('discovery.docker', 'containers', [
    attr('host', dockerHost),
    attr('refresh_interval', '15s'),
  ]);
  const relabelRule = (source: string, target: string, regex?: string) =>
    block('rule', undefined, [
      attr('source_labels', [source]),
      ...(regex === undefined ? [] : [attr('regex', regex)]),
      attr('target_label', target),
    ]);
  const relabel = block('discovery.relabel', 'containers', [
    comment('Used only for its exported rules, which loki.source.docker applies to each container.'),
    attr('targets', []),
    relabelRule('__meta_docker_container_name', 'container', '/(.*)'),
    relabelRule('__meta_docker_container_label_com_docker_compose_project', 'compose_project'),
    relabelRule('__meta_docker_container_label_com_docker_compose_service', 'compose_service'),
    relabelRule('__meta_docker_container_log_stream', 'stream'),
  ]);
  const dockerLogs = block('loki.source.docker', 'containers', [
    attr('host', dockerHost),
    attr('targets', exportOf(discovery, 'targets')),
    attr('labels', object({ source: 'docker' })),
    attr('relabel_rules', exportOf(relabel, 'rules')),
    attr('forward_to', receivers),
  ]);

  const files = block('local.file_match', 'host_logs', [
    attr(
      'path_targets',
      m.hostLogs.map((l) => object({ __path__: `${l.dir}/${l.glob}`, job: l.job })),
    ),
    attr('sync_period', '10s'),
  ]);
  const fileLogs = block('loki.source.file', 'host_logs', [
    attr('targets', exportOf(files, 'targets')),
    attr('forward_to', receivers),
  ]);

  return [
    comment('Container logs, labelled with the container name and its Compose project and service.'),
    discovery,
    relabel,
    dockerLogs,
    comment('Host log files: the host nginx and the platform jobs (mounted at the same paths).'),
    files,
    fileLogs,
    write,
  ];
}

export function renderAlloy(model: Input): RenderedFile[] {
  return [textFile(model.monitoring.files.alloy, printAlloy(alloyConfig(model)), { comment: '//' })];
}
