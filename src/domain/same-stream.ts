/** What a catalog write can change about a stream. */
export interface StreamContent {
  readonly url: string;
  readonly name: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Absent: the write keeps the flag the stream has. */
  readonly enabled?: boolean | undefined;
}

/** Same keys and values, whatever the key order (jsonb keeps none). */
function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/**
 * Whether writing `b` would leave stream `a` as it is; a `b` without
 * `enabled` keeps the flag `a` has. The catalog write uses it to tell updated
 * from unchanged, the coordinator to tell owners to restart a changed stream.
 */
export function sameStream(a: StreamContent & { readonly enabled: boolean }, b: StreamContent): boolean {
  return a.url === b.url && a.name === b.name && a.enabled === (b.enabled ?? a.enabled) && sameMetadata(a.metadata, b.metadata);
}
