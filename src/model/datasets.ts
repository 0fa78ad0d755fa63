/**
 * Readers for labelled sentiment files, used by `crowdpulse eval`, the model card and the tests.
 * Every reader returns labels as indices into MODEL_LABELS (0 negative, 1 neutral, 2 positive)
 * and states its label mapping (printed by eval, copied into models/README.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CrowdpulseError } from '../errors.js';
import { OWN_FORMATS, readOwn, type OwnFormat, type OwnOptions } from './own-data.js';

/** The public sets' own formats, then the user's own files (src/model/own-data.ts). */
export const DATASET_FORMATS = ['tweeteval', 'vader-tweets', 'sentiment140', 'sanders', 'us-airline', ...OWN_FORMATS] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export interface LabelledSet {
  readonly format: DatasetFormat;
  readonly texts: string[];
  readonly labels: number[];
  /** Human-readable label mapping from the file's labels to negative/neutral/positive. */
  readonly mapping: string;
  /** Rows left out, with why (e.g. sanders "irrelevant"). */
  readonly dropped: number;
}

export const isOwnFormat = (format: DatasetFormat): format is OwnFormat => (OWN_FORMATS as readonly string[]).includes(format);

/** The fixed mappings of the public sets (an own file's mapping comes from --labels). */
export const LABEL_MAPPINGS: Readonly<Record<Exclude<DatasetFormat, OwnFormat>, string>> = {
  tweeteval: '0 → negative, 1 → neutral, 2 → positive (labels file beside the text file)',
  'vader-tweets': 'mean human rating in [-4, 4]: < -0.5 → negative, > 0.5 → positive, otherwise neutral',
  sentiment140: '0 → negative, 2 → neutral, 4 → positive',
  sanders: 'negative / neutral / positive; "irrelevant" dropped',
  'us-airline': 'airline_sentiment negative / neutral / positive',
};

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

export function vaderRatingToLabel(rating: number): number {
  return rating < -0.5 ? 0 : rating > 0.5 ? 2 : 1;
}

const WORD_LABEL: Readonly<Record<string, number>> = { negative: 0, neutral: 1, positive: 2 };

/** The own-file format of a name's extension (.tsv, .csv, .jsonl / .ndjson), or undefined. */
export function ownFormatOf(file: string): OwnFormat | undefined {
  const name = basename(file).toLowerCase();
  if (name.endsWith('.tsv')) return 'tsv';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

/**
 * Guesses the format from the file name: the names the public sets ship with first, then an own
 * file by its extension. `own` (the caller named a column or a label mapping) skips the public names.
 */
export function detectFormat(file: string, own = false): DatasetFormat {
  const name = basename(file).toLowerCase();
  if (!own) {
    if (name.endsWith('_text.txt')) return 'tweeteval';
    if (name.startsWith('tweets_groundtruth')) return 'vader-tweets';
    if (name.startsWith('testdata.manual')) return 'sentiment140';
    if (name === 'full-corpus.csv') return 'sanders';
    if (name === 'tweets.csv') return 'us-airline';
  }
  const ownFormat = ownFormatOf(file);
  if (ownFormat) return ownFormat;
  throw new CrowdpulseError('CP_USAGE', `${file}: cannot tell the format from the name; pass --format (${DATASET_FORMATS.join(' | ')})`);
}

function headerIndex(header: string[], col: string, file: string): number {
  const i = header.indexOf(col);
  if (i < 0) throw new CrowdpulseError('CP_DATASET_INVALID', `${file}: no column "${col}" (columns: ${header.join(', ')})`);
  return i;
}

export function readLabelled(file: string, format: DatasetFormat = detectFormat(file), own: OwnOptions = {}): LabelledSet {
  if (isOwnFormat(format)) return { format, ...readOwn(file, format, own) };
  const texts: string[] = [];
  const labels: number[] = [];
  let dropped = 0;
  switch (format) {
    case 'tweeteval': {
      const labelFile = join(dirname(file), basename(file).replace(/_text\.txt$/, '_labels.txt'));
      if (!existsSync(labelFile) || labelFile === file)
        throw new CrowdpulseError('CP_DATASET_INVALID', `${file}: TweetEval text file needs its labels file ${labelFile}`);
      const t = readFileSync(file, 'utf8').split('\n');
      const l = readFileSync(labelFile, 'utf8').split('\n');
      if (t.at(-1) === '') t.pop();
      if (l.at(-1) === '') l.pop();
      if (t.length !== l.length) throw new CrowdpulseError('CP_DATASET_INVALID', `${file}: ${t.length} texts but ${l.length} labels in ${labelFile}`);
      l.forEach((x, i) => {
        const y = Number(x);
        if (y !== 0 && y !== 1 && y !== 2) throw new CrowdpulseError('CP_DATASET_INVALID', `${labelFile}:${i + 1}: label "${x}" is not 0, 1 or 2`);
        texts.push(t[i]!);
        labels.push(y);
      });
      break;
    }
    case 'vader-tweets': {
      for (const line of readFileSync(file, 'latin1').split(/\r?\n/)) {
        if (line === '') continue;
        const [, rating, ...rest] = line.split('\t');
        const r = Number(rating);
        if (rest.length === 0 || Number.isNaN(r)) {
          dropped++;
          continue;
        }
        texts.push(rest.join('\t'));
        labels.push(vaderRatingToLabel(r));
      }
      break;
    }
    case 'sentiment140': {
      for (const row of parseCsv(readFileSync(file, 'utf8'))) {
        const y = { '0': 0, '2': 1, '4': 2 }[row[0] ?? ''];
        if (y === undefined || row[1] === undefined) {
          dropped++;
          continue;
        }
        texts.push(row[1]);
        labels.push(y);
      }
      break;
    }
    case 'sanders':
    case 'us-airline': {
      const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
      if (!header) throw new CrowdpulseError('CP_DATASET_INVALID', `${file}: empty`);
      const li = headerIndex(header, format === 'sanders' ? 'Sentiment' : 'airline_sentiment', file);
      const ti = headerIndex(header, format === 'sanders' ? 'TweetText' : 'text', file);
      for (const row of rows) {
        const y = WORD_LABEL[row[li] ?? ''];
        if (y === undefined || row[ti] === undefined) {
          dropped++;
          continue;
        }
        texts.push(row[ti]);
        labels.push(y);
      }
      break;
    }
  }
  return { format, texts, labels, mapping: LABEL_MAPPINGS[format], dropped };
}
