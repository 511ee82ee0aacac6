// The benchmark's result table, as aligned text for a terminal or as Markdown for the README.

export interface Row {
  readonly figure: string;
  readonly executor: string;
  readonly baseline: string;
  readonly target: string;
  // undefined: reported only, no target.
  readonly met: boolean | undefined;
  // How it was measured, printed under the table.
  readonly how: string;
}

const HEADER = ['figure', 'executor', 'baseline (same run)', 'target', 'met?'] as const;

function cells(row: Row): string[] {
  return [row.figure, row.executor, row.baseline, row.target, row.met === undefined ? 'reported' : row.met ? 'yes' : 'NO'];
}

export function textTable(rows: readonly Row[]): string {
  const table = [[...HEADER], ...rows.map(cells)];
  const widths = HEADER.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const lines = table.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  const notes = rows.map((row) => `- ${row.figure}: ${row.how}`);
  return [...lines, '', 'How each figure was measured:', ...notes, ''].join('\n');
}

export function markdownTable(rows: readonly Row[]): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|');
  const lines = [
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${cells(row).map(escape).map((cell) => (cell === 'NO' ? '**no**' : cell)).join(' | ')} |`),
  ];
  const notes = rows.map((row) => `- **${row.figure}**: ${row.how}`);
  return [...lines, '', ...notes, ''].join('\n');
}
