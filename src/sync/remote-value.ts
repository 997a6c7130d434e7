// The input the pure core consumes from providers: a remote value as raw bytes. sync defines it and
// providers produce it (docs/architecture.md), so sync needs nothing from providers/.

/** A remote value exactly as the provider holds it. */
export interface RemoteValue {
  /** The secret's bytes: a string secret is its UTF-8 encoding. */
  value: Uint8Array;
}
