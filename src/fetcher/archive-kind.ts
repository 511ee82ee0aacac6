// Which archive a fetched file is, by its name, as the Mesos fetcher decides whether to extract.

export type ArchiveKind = 'tar' | 'tar.gz' | 'tar.bz2' | 'tar.xz' | 'zip' | 'gz';

const SUFFIXES: readonly (readonly [string, ArchiveKind])[] = [
  ['.tar.gz', 'tar.gz'], ['.tgz', 'tar.gz'],
  ['.tar.bz2', 'tar.bz2'], ['.tbz2', 'tar.bz2'],
  ['.tar.xz', 'tar.xz'], ['.txz', 'tar.xz'],
  ['.tar', 'tar'], ['.zip', 'zip'], ['.gz', 'gz'],
];

// The kind, or undefined for a file that is not extracted.
export function archiveKind(fileName: string): ArchiveKind | undefined {
  const lower = fileName.toLowerCase();
  return SUFFIXES.find(([suffix]) => lower.endsWith(suffix) && lower.length > suffix.length)?.[1];
}

// A gzip-compressed single file is extracted beside itself without the .gz ("a.txt.gz" -> "a.txt").
export function gunzippedName(fileName: string): string {
  return fileName.slice(0, -'.gz'.length);
}
