import { readFile, writeFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, Pair, parseDocument, Scalar, visit } from 'yaml';
import type { RunResult } from './exec.ts';

// The Debian tools here are older than production (promtool 2.42 for Prometheus 3, amtool 0.25 for a newer
// Alertmanager). When an old tool rejects something only because it is newer, the check takes it out of a
// copy, checks the rest, and says so in the row's notes. Anything not on these lists still fails.

/** Configuration fields of Prometheus releases after 2.42 (up to 3.x). */
export const PROMETHEUS_NEWER_FIELDS: ReadonlySet<string> = new Set([
  'always_scrape_classic_histograms',
  'convert_classic_histograms_to_nhcb',
  'enable_compression',
  'fallback_scrape_protocol',
  'http_headers',
  'keep_dropped_targets',
  'metric_name_escaping_scheme',
  'metric_name_validation_scheme',
  'native_histogram_bucket_limit',
  'native_histogram_min_bucket_factor',
  'otlp',
  'query_offset',
  'rule_query_offset',
  'runtime',
  'scrape_failure_log_file',
  'scrape_native_histograms',
  'scrape_protocols',
  'track_timestamps_staleness',
]);

/** PromQL functions of Prometheus 3 (some behind `--enable-feature=promql-experimental-functions`). */
export const PROMETHEUS_NEWER_FUNCTIONS: ReadonlySet<string> = new Set([
  'double_exponential_smoothing',
  'first_over_time',
  'histogram_avg',
  'histogram_stddev',
  'histogram_stdvar',
  'info',
  'limit_ratio',
  'limitk',
  'mad_over_time',
  'sort_by_label',
  'sort_by_label_desc',
  'ts_of_first_over_time',
  'ts_of_last_over_time',
  'ts_of_max_over_time',
  'ts_of_min_over_time',
]);

/** Configuration fields of Alertmanager releases after 0.25. */
export const ALERTMANAGER_NEWER_FIELDS: ReadonlySet<string> = new Set([
  'bot_token_file',
  'http_headers',
  'jira_configs',
  'msteams_configs',
  'msteams_v2_configs',
  'rocketchat_api_url',
  'rocketchat_configs',
  'rocketchat_token',
  'rocketchat_token_file',
  'rocketchat_token_id',
  'rocketchat_token_id_file',
  'routing_key_file',
  'service_key_file',
  'smtp_auth_secret_file',
  'smtp_force_implicit_tls',
  'smtp_tls_config',
  'url_file',
  'webhook_url_file',
]);

/**
 * Newer `*_file` fields whose inline form the old tool knows: the copy gets the inline field with a dummy
 * value instead, so a receiver that needs one of the two stays valid.
 */
export const ALERTMANAGER_FILE_FIELDS: ReadonlyMap<string, { field: string; value: string }> = new Map([
  ['url_file', { field: 'url', value: 'http://academy-check.invalid/' }],
  ['webhook_url_file', { field: 'webhook_url', value: 'http://academy-check.invalid/' }],
  ['bot_token_file', { field: 'bot_token', value: 'academy-check-dummy' }],
  ['routing_key_file', { field: 'routing_key', value: 'academy-check-dummy' }],
  ['service_key_file', { field: 'service_key', value: 'academy-check-dummy' }],
  ['smtp_auth_secret_file', { field: 'smtp_auth_secret', value: 'academy-check-dummy' }],
]);

export interface UnknownField {
  line: number;
  field: string;
  type: string;
}

/** Go YAML's strict-decoding errors: `line 3: field foo not found in type config.plain`. */
export function unknownFields(output: string): UnknownField[] {
  return [...output.matchAll(/line (\d+): field (\S+) not found in type (\S+)/g)].map((m) => ({
    line: Number(m[1]),
    field: m[2] ?? '',
    type: m[3] ?? '',
  }));
}

/** Line (1-based) of each character offset. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/**
 * Removes the keys named `field` that start on `line` (with their values) from a YAML document, or puts the
 * inline field of `replacements` with its dummy value in their place.
 */
export function stripFields(
  text: string,
  fields: readonly Pick<UnknownField, 'line' | 'field'>[],
  replacements: ReadonlyMap<string, { field: string; value: string }> = new Map(),
): string {
  const doc = parseDocument(text);
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || !pair.key.range) return undefined;
      const key = String(pair.key.value);
      const line = lineOf(text, pair.key.range[0]);
      if (!fields.some((f) => f.field === key && f.line === line)) return undefined;
      const instead = replacements.get(key);
      return instead ? new Pair(new Scalar(instead.field), new Scalar(instead.value)) : visit.REMOVE;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** One rule promtool could not read: `r.yml: 7:15: group "g", rule 2, "B": could not parse expression: ...`. */
export interface RuleError {
  group: string;
  /** 1-based, as promtool counts. */
  rule: number;
  name: string;
  message: string;
}

export function ruleErrors(output: string): RuleError[] {
  return [...output.matchAll(/\d+:\d+: group "([^"]*)", rule (\d+), "([^"]*)": (.*)$/gm)].map((m) => ({
    group: m[1] ?? '',
    rule: Number(m[2]),
    name: m[3] ?? '',
    message: m[4] ?? '',
  }));
}

/** Why Prometheus 3 reads an expression that promtool 2.42 rejects, or null when that is not the reason. */
export function prometheus3Reason(message: string): string | null {
  const fn = /unknown function with name "([^"]+)"/.exec(message)?.[1];
  if (fn && PROMETHEUS_NEWER_FUNCTIONS.has(fn)) return `${fn}() is a Prometheus 3 function`;
  const quoted = /unexpected string "\\"([^"\\]*)\\""/.exec(message)?.[1];
  if (quoted !== undefined && !/^[A-Za-z_:][A-Za-z0-9_:]*$/.test(quoted))
    return `"${quoted}" is a quoted UTF-8 name (Prometheus 3)`;
  return null;
}

/** Removes rules (group name, 1-based index) from a rule file. */
export function stripRules(text: string, rules: readonly Pick<RuleError, 'group' | 'rule'>[]): string {
  const doc = parseDocument(text);
  const groups = doc.get('groups');
  if (!isSeq(groups)) return text;
  for (const group of groups.items) {
    if (!isMap(group)) continue;
    const name = String(group.get('name'));
    const list = group.get('rules');
    if (!isSeq(list)) continue;
    const drop = new Set(rules.filter((r) => r.group === name).map((r) => r.rule - 1));
    list.items = list.items.filter((_, i) => !drop.has(i));
  }
  return doc.toString({ lineWidth: 0 });
}

export interface NewerSyntaxRun {
  run: RunResult;
  /** What was taken out of the copy because the local tool is older than production. */
  notes: string[];
}

/**
 * Runs `run` over `file`; while the tool rejects only fields on `newerFields` (or, with `rules`, only rules
 * using Prometheus 3 syntax), takes them out of the copy and runs again.
 */
export async function runAllowingNewer(
  file: string,
  run: () => Promise<RunResult>,
  options: {
    tool: string;
    newerFields: ReadonlySet<string>;
    replacements?: ReadonlyMap<string, { field: string; value: string }>;
    rules?: boolean;
    display: string;
  },
): Promise<NewerSyntaxRun> {
  const notes: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const result = await run();
    if (result.exitCode === 0 || attempt >= 5) return { run: result, notes };
    const text = await readFile(file, 'utf8');
    const fields = unknownFields(result.output);
    let stripped = text;
    if (fields.length > 0 && fields.every((f) => options.newerFields.has(f.field))) {
      stripped = stripFields(text, fields, options.replacements);
      for (const f of fields) {
        const instead = options.replacements?.get(f.field);
        notes.push(
          `${options.tool} does not know \`${f.field}\` (${options.display} line ${f.line}, a newer field than it reads): checked a copy ${instead ? `with a dummy \`${instead.field}\` instead` : 'without it'}`,
        );
      }
    } else if (options.rules && fields.length === 0) {
      const errors = ruleErrors(result.output);
      const reasons = errors.map((e) => prometheus3Reason(e.message));
      if (errors.length > 0 && reasons.every((r) => r !== null)) {
        stripped = stripRules(text, errors);
        for (const [i, e] of errors.entries())
          notes.push(
            `rule "${e.name}" (group ${e.group}): ${reasons[i]}; ${options.tool} checked the other rules without it`,
          );
      }
    }
    if (stripped === text) return { run: result, notes };
    await writeFile(file, stripped);
  }
}
