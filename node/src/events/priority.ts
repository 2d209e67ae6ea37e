/**
 * How urgent an event is to carry over a thin uplink: private messages first, then short text
 * (posts, replies, reactions, follows, profiles, deletions), then bulky data. The node log keeps
 * classes in separate blocks, each block's class is indexed, and a node catching up over sync
 * fetches blocks in class order (see sync/log-set.ts), so a budget spent on bulky data never
 * holds back a message.
 */
export const Priority = { Private: 0, Text: 1, Bulk: 2 } as const
export type Priority = typeof Priority[keyof typeof Priority]

/** NIP-04 direct messages, NIP-17 chat messages and seals, NIP-59 gift wraps. */
const PRIVATE_KINDS = new Set([4, 13, 14, 1059])

/** Events whose serialized JSON is longer than this count as bulky, whatever their kind. */
export const TEXT_MAX_CHARS = 4096

export function priorityOf (kind: unknown, jsonLength: number): Priority {
  if (typeof kind === 'number' && PRIVATE_KINDS.has(kind)) return Priority.Private
  return jsonLength <= TEXT_MAX_CHARS ? Priority.Text : Priority.Bulk
}

/** Runs of equal priority over consecutive blocks. */
export interface PriorityRun { start: number, length: number, priority: Priority }
