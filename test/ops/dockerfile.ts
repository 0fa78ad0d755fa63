/** A Dockerfile as instructions grouped by stage (continuation lines joined, comments dropped). */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && (line.trim().startsWith('#') || line.trim() === '')) continue;
    if (current !== '' && line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const argText = line.slice(keyword.length).trim().replace(/\s+/g, ' ');
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      const [k, v = ''] = argText.split('=');
      args[k!] = v;
      continue;
    }
    if (upper === 'FROM') {
      const from = (rest[0] ?? '').replace(/\$\{(\w+)\}/g, (_, n: string) => args[n] ?? '');
      const as = rest.findIndex((x) => x.toUpperCase() === 'AS');
      stages.push({ from, name: as >= 0 ? rest[as + 1] : undefined, instructions: [] });
      continue;
    }
    stages.at(-1)?.instructions.push({ keyword: upper, args: argText });
  }
  return { args, stages };
}

/**
 * Whether .dockerignore excludes `path` (Docker's rules: patterns in order, the last match wins,
 * `!` re-includes; a pattern matching a directory excludes what is under it).
 */
export function dockerIgnored(patterns: readonly string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
    const regex = new RegExp(
      '^' +
        pattern
          .split('/')
          .map((part) =>
            part === '**'
              ? '.*'
              : part
                  .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                  .replace(/\*/g, '[^/]*')
                  .replace(/\?/g, '[^/]'),
          )
          .join('/')
          .replace(/\.\*\//g, '(.*/)?') +
        '(/.*)?$',
    );
    if (regex.test(path)) ignored = !negate;
  }
  return ignored;
}
