/**
 * Split rows for multi-row inserts so that no statement binds more than `maxParameters` values.
 */
export function chunkRows<T>(rows: T[], columnsPerRow: number, maxParameters: number): T[][] {
  const size = Math.max(1, Math.floor(maxParameters / columnsPerRow));
  const chunks: T[][] = [];
  for (let start = 0; start < rows.length; start += size) {
    chunks.push(rows.slice(start, start + size));
  }
  return chunks;
}
