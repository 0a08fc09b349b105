/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4),
 * enough to prove /metrics parses: every line is a HELP, a TYPE or a sample;
 * every sample belongs to a family whose TYPE came first; label values are
 * quoted and escaped; values are floats. Throws on the first bad line.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the sample with exactly these labels; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;

export function parsePrometheusText(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text.split('\n').forEach((line, index) => {
    const fail = (why: string) => {
      throw new Error(`line ${index + 1}: ${why}: ${line}`);
    };
    if (line === '') return;
    if (line.startsWith('# HELP ')) {
      if (!new RegExp(`^# HELP ${NAME} `).test(line)) fail('bad HELP');
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (!new RegExp(`^${NAME}$`).test(name) || !TYPES.has(type)) fail('bad TYPE');
      if (types.has(name)) fail('TYPE given twice');
      types.set(name, type);
      return;
    }
    if (line.startsWith('#')) return; // a comment
    const match = SAMPLE.exec(line);
    if (!match) return fail('not a sample');
    const [, name, labelText = '', valueText] = match;
    if (!types.has(familyOf(name, types))) fail('sample before its TYPE');
    const value = parseValue(valueText);
    if (value === undefined) fail('bad value');
    samples.push({ name, labels: parseLabels(labelText, fail), value: value as number });
  });
  return {
    types,
    samples,
    value(name, labels = {}) {
      const wanted = JSON.stringify(sorted(labels));
      return samples.find((s) => s.name === name && JSON.stringify(sorted(s.labels)) === wanted)?.value;
    },
  };
}

function familyOf(name: string, types: Map<string, string>): string {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count|total|created)$/, '');
  return types.has(base) ? base : name;
}

function parseLabels(text: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const match = LABEL.exec(rest);
    if (!match) fail('bad labels');
    const [whole, name, raw] = match;
    labels[name] = raw.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
  }
  return labels;
}

/** As Prometheus reads values (Go's strconv.ParseFloat): special values in any case; prom-client writes NaN as `Nan`. */
function parseValue(text: string): number | undefined {
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  const value = Number(text);
  return /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) && Number.isFinite(value) ? value : undefined;
}

function sorted(labels: Record<string, string>): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
}
