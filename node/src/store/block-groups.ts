import type { NostrEvent } from '../events/types.js'
import { Priority, priorityOf } from '../events/priority.js'

/**
 * Bulky blocks are kept small: a thin uplink's budget cut mid-block wastes what came of the
 * block, and hypercore fetches several blocks at once.
 */
export const BULK_BLOCK_MAX_CHARS = 64 * 1024

/**
 * A group commit's batch split into blocks by priority class, most urgent first, arrival order
 * kept within a class; bulky events in blocks of at most BULK_BLOCK_MAX_CHARS (one event at
 * least). A batch of one class (the usual case) stays one block.
 */
export function byPriority<T extends { event: NostrEvent, json: string }> (batch: T[]): T[][] {
  const groups: T[][] = [[], []]
  const bulk: T[][] = []
  let chars = 0
  for (const p of batch) {
    const c = priorityOf(p.event.kind, p.json.length)
    if (c !== Priority.Bulk) { (groups[c] as T[]).push(p); continue }
    const last = bulk[bulk.length - 1]
    if (last === undefined || chars + p.json.length > BULK_BLOCK_MAX_CHARS) { bulk.push([p]); chars = p.json.length } else { last.push(p); chars += p.json.length }
  }
  return [...groups, ...bulk].filter(g => g.length > 0)
}
