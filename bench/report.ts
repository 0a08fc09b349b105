export function renderResults(results: Record<string, unknown>): string {
  return '```json\n' + JSON.stringify(results, null, 2) + '\n```\n';
}
