/**
 * Maps over items with at most `limit` calls in flight, keeping the order of the results. For
 * reading many small objects without opening hundreds of connections at once.
 *
 * @example const bodies = await mapWithLimit(keys, 16, (key) => read(key));
 */
export async function mapWithLimit<T, R>(
  items: readonly T[],
  limit: number,
  call: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next;
      next += 1;
      results[at] = await call(items[at] as T, at);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
