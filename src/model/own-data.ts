/**
 * A user's own labelled file for `crowdpulse eval FILE`: TSV, CSV (RFC 4180) or JSONL, with a
 * named text column and label column and a label mapping from the file's labels to
 * negative / neutral / positive. Every defect is a CP_DATASET_INVALID error naming the file and
 * the line; nothing here throws anything else.
 *
 * - TSV: one record per line, fields split on tabs, no quoting (IANA text/tab-separated-values);
 *   a field cannot hold a tab or a newline.
 * - CSV: RFC 4180: a field may be quoted ("…"), a quoted field may hold commas, newlines and
 *   doubled quotes (""); a quote inside an unquoted field, text after a closing quote and an
 *   unclosed quote are errors. CRLF or LF.
 * - JSONL: one JSON object per line; the text must be a string, the label a string or a number.
 * The first line of TSV and CSV is the header. Blank lines are skipped; a UTF-8 BOM is ignored.
 */
import { readFileSync } from 'node:fs';
import { CrowdpulseError } from '../errors.js';
import { LABELS } from '../contract/index.js';

export const OWN_FORMATS = ['tsv', 'csv', 'jsonl'] as const;
export type OwnFormat = (typeof OWN_FORMATS)[number];

/** Where a file's label maps: a class index (0 negative, 1 neutral, 2 positive) or 'skip' (row dropped, counted). */
export type LabelTarget = 0 | 1 | 2 | 'skip';

export interface LabelMap {
  /** The file's label, trimmed and lowercased → its class. */
  readonly values: ReadonlyMap<string, LabelTarget>;
  /** The mapping in the --labels syntax, for the report. */
  readonly spec: string;
}

/** Default --labels: the class names, their short forms and TweetEval's 0 / 1 / 2. */
export const DEFAULT_LABELS = 'negative=negative,neg,0;neutral=neutral,neu,1;positive=positive,pos,2';

const TARGETS: Readonly<Record<string, LabelTarget>> = { negative: 0, neutral: 1, positive: 2, skip: 'skip' };

const invalid = (message: string): CrowdpulseError => new CrowdpulseError('CP_DATASET_INVALID', message);
const usage = (message: string): CrowdpulseError => new CrowdpulseError('CP_USAGE', message);

/**
 * Parses `--labels`: `CLASS=VALUE,VALUE;CLASS=VALUE…` where CLASS is negative, neutral, positive or
 * skip (rows with those labels are dropped and counted). Values match the file's labels trimmed and
 * case-insensitively. A bad spec is a usage error (CP_USAGE).
 */
export function parseLabelMap(spec: string): LabelMap {
  const values = new Map<string, LabelTarget>();
  for (const part of spec.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw usage(`--labels: "${part}" has no "=" (write CLASS=VALUE,VALUE;… with CLASS one of ${Object.keys(TARGETS).join(', ')})`);
    const cls = part.slice(0, eq).trim().toLowerCase();
    const target = TARGETS[cls];
    if (target === undefined) throw usage(`--labels: "${cls}" is not a class (${Object.keys(TARGETS).join(', ')})`);
    const list = part
      .slice(eq + 1)
      .split(',')
      .map((v) => v.trim().toLowerCase());
    if (list.some((v) => v === '')) throw usage(`--labels: an empty value for ${cls} in "${part}"`);
    for (const v of list) {
      const before = values.get(v);
      if (before !== undefined && before !== target) throw usage(`--labels: "${v}" is mapped to two classes`);
      values.set(v, target);
    }
  }
  if (values.size === 0) throw usage('--labels: no mapping given');
  return { values, spec };
}

export function describeLabelMap(map: LabelMap): string {
  const by = new Map<LabelTarget, string[]>();
  for (const [v, t] of map.values) by.set(t, [...(by.get(t) ?? []), JSON.stringify(v)]);
  const name = (t: LabelTarget): string => (t === 'skip' ? 'dropped' : LABELS[t]);
  return ([0, 1, 2, 'skip'] as const)
    .filter((t) => by.has(t))
    .map((t) => `${by.get(t)!.join(', ')} → ${name(t)}`)
    .join('; ');
}

interface Row {
  readonly line: number;
  readonly fields: string[];
}

/** TSV: records are lines; no quoting. */
function parseTsv(text: string): Row[] {
  const rows: Row[] = [];
  text.split(/\r\n|\n|\r/).forEach((l, i) => {
    if (l !== '') rows.push({ line: i + 1, fields: l.split('\t') });
  });
  return rows;
}

/** Strict RFC 4180; each record carries the line it starts on. */
export function parseCsvStrict(text: string, file: string): Row[] {
  const rows: Row[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  const eol = (j: number): number => (text[j] === '\r' && text[j + 1] === '\n' ? 2 : text[j] === '\n' || text[j] === '\r' ? 1 : 0);
  while (i < n) {
    const start = line;
    const blank = eol(i);
    if (blank > 0) {
      i += blank;
      line++;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const opened = line;
        i++;
        for (;;) {
          if (i >= n) throw invalid(`${file}:${opened}: a quoted field opened here is never closed`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          const e = eol(i);
          if (e > 0) line++;
          field += c;
          i++;
          if (e === 2) {
            field += '\n';
            i++;
          }
        }
        if (i < n && text[i] !== ',' && eol(i) === 0)
          throw invalid(`${file}:${line}: "${text[i]}" after a closing quote (a quote inside a quoted field is written "")`);
      } else {
        while (i < n && text[i] !== ',' && eol(i) === 0) {
          if (text[i] === '"') throw invalid(`${file}:${line}: a quote inside an unquoted field (quote the whole field and double the quote: "say ""hi""")`);
          field += text[i];
          i++;
        }
      }
      fields.push(field);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      const e = eol(i);
      i += e;
      if (e > 0) line++;
      break;
    }
    rows.push({ line: start, fields });
  }
  return rows;
}

export interface OwnOptions {
  readonly textColumn?: string;
  readonly labelColumn?: string;
  readonly labels?: LabelMap;
}

export interface OwnSet {
  readonly texts: string[];
  readonly labels: number[];
  readonly dropped: number;
  readonly mapping: string;
}

function mapLabel(raw: string, map: LabelMap, where: string): LabelTarget {
  const t = map.values.get(raw.trim().toLowerCase());
  if (t === undefined) throw invalid(`${where}: label "${raw}" is not in the label mapping (${map.spec}); add it with --labels`);
  return t;
}

/** Reads a TSV, CSV or JSONL file of labelled posts (see the module comment). */
export function readOwn(file: string, format: OwnFormat, options: OwnOptions = {}): OwnSet {
  const textColumn = options.textColumn ?? 'text';
  const labelColumn = options.labelColumn ?? 'label';
  const map = options.labels ?? parseLabelMap(DEFAULT_LABELS);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(`${file}: cannot be read: ${(e as Error).message}`);
  }
  if (content.charCodeAt(0) === 0xfeff) content = content.slice(1);
  const texts: string[] = [];
  const labels: number[] = [];
  let dropped = 0;
  const add = (text: string, label: LabelTarget): void => {
    if (label === 'skip') {
      dropped++;
      return;
    }
    texts.push(text);
    labels.push(label);
  };
  if (format === 'jsonl') {
    content.split(/\r\n|\n|\r/).forEach((l, i) => {
      if (l.trim() === '') return;
      const where = `${file}:${i + 1}`;
      let value: unknown;
      try {
        value = JSON.parse(l);
      } catch (e) {
        throw invalid(`${where}: not JSON: ${(e as Error).message}`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where}: not a JSON object`);
      const record = value as Record<string, unknown>;
      const text = record[textColumn];
      const label = record[labelColumn];
      if (!(textColumn in record)) throw invalid(`${where}: no key "${textColumn}" (keys: ${Object.keys(record).join(', ')}); name it with --text-column`);
      if (!(labelColumn in record)) throw invalid(`${where}: no key "${labelColumn}" (keys: ${Object.keys(record).join(', ')}); name it with --label-column`);
      if (typeof text !== 'string') throw invalid(`${where}: "${textColumn}" is not a string`);
      if (typeof label !== 'string' && typeof label !== 'number') throw invalid(`${where}: "${labelColumn}" is not a string or a number`);
      add(text, mapLabel(String(label), map, where));
    });
  } else {
    const rows = format === 'tsv' ? parseTsv(content) : parseCsvStrict(content, file);
    const [header, ...body] = rows;
    if (!header) throw invalid(`${file}: empty (a header line and at least one row expected)`);
    const column = (name: string, flag: string): number => {
      const i = header.fields.indexOf(name);
      if (i < 0) throw invalid(`${file}:${header.line}: no column "${name}" in the header (columns: ${header.fields.join(', ')}); name it with ${flag}`);
      return i;
    };
    const ti = column(textColumn, '--text-column');
    const li = column(labelColumn, '--label-column');
    for (const row of body) {
      const where = `${file}:${row.line}`;
      if (row.fields.length !== header.fields.length) throw invalid(`${where}: ${row.fields.length} fields, the header has ${header.fields.length}`);
      add(row.fields[ti]!, mapLabel(row.fields[li]!, map, where));
    }
  }
  if (texts.length === 0 && dropped === 0) throw invalid(`${file}: no labelled rows`);
  return { texts, labels, dropped, mapping: describeLabelMap(map) };
}
