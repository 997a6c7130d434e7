// Which replica reconciles which namespace, when several replicas share the work (`--shards N`):
// pure functions, the same on every replica, so that replicas that see the same live members
// agree on the assignment without talking to each other.
//
// A namespace belongs to one of N fixed virtual shards by a stable hash of its name (FNV-1a: the
// same in every process and version, unlike a seeded hash). A shard's desired owner is chosen by
// rendezvous (highest-random-weight) hashing over the live members, with a capacity of
// ceil(N / members) per member so that no replica is left without shards: plain rendezvous over 8
// shards and 3 members leaves one member with none about one time in nine. Adding or removing a
// member moves few shards besides those it gains or loses (unit-tested). The assignment is only a
// wish: the shard Leases (shardcoordinator.ts) decide who actually holds a shard.

/** FNV-1a, 32 bits, over the UTF-16 code units of `s` (namespace names are ASCII). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finalizer: FNV-1a of strings that differ in their last character differ in few bits. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard of a namespace: stable across processes, versions and restarts. */
export function shardOf(namespace: string, shards: number): number {
  return mix32(fnv1a32(namespace)) % shards;
}

/** The rendezvous weight of a member for a shard. */
export function rendezvousWeight(member: string, shard: number): number {
  return mix32(fnv1a32(`${member}\u0000${shard}`));
}

/**
 * The desired owner of each shard (index = shard), or undefined for every shard when there is no
 * member. Every (shard, member) pair is taken in order of its rendezvous weight, highest first; a
 * pair assigns the shard when the shard has no owner yet and the member has room under the
 * capacity ceil(shards / members). Without the capacity this is plain rendezvous hashing; with it,
 * a member's weights decide which shards it keeps when it is full, so a join or a leave moves few
 * shards besides the joiner's or the leaver's. The result depends only on the member set.
 */
export function assignShards(shards: number, members: readonly string[]): Array<string | undefined> {
  const unique = [...new Set(members)].sort();
  const owners: Array<string | undefined> = Array.from({ length: shards }, () => undefined);
  if (unique.length === 0) return owners;
  const capacity = Math.ceil(shards / unique.length);
  const pairs: Array<{ shard: number; member: string; weight: number }> = [];
  for (let shard = 0; shard < shards; shard++) for (const member of unique) pairs.push({ shard, member, weight: rendezvousWeight(member, shard) });
  // Ties (rare) by shard, then by name, so every replica sorts the same way.
  pairs.sort((a, b) => b.weight - a.weight || a.shard - b.shard || (a.member < b.member ? -1 : 1));
  const load = new Map(unique.map((m) => [m, 0]));
  let placed = 0;
  for (const { shard, member } of pairs) {
    if (owners[shard] !== undefined || load.get(member)! >= capacity) continue;
    owners[shard] = member;
    load.set(member, load.get(member)! + 1);
    if (++placed === shards) break;
  }
  return owners;
}
