import type { NostrEvent, Filter, EventSource } from '../events/types.js'

/**
 * Outcome of ingesting one event. `ok` and `message` map 1:1 onto a NIP-01 OK message:
 * message carries a machine-readable prefix (`duplicate:`, `invalid:`, `blocked:`, `error:`...).
 */
export interface IngestResult {
  ok: boolean
  message: string
  /** true when the event was stored (durable) or, for ephemeral kinds, fanned out */
  accepted: boolean
}

/** The seam between the relay (and later sync) and the store. */
export interface EventStore {
  /** verify -> append (durable) -> index -> fan-out. Resolves only once durable. */
  ingest (event: unknown, source: EventSource): Promise<IngestResult>
  /** Stored events matching any of the filters, newest first, each filter's limit honoured. */
  query (filters: Filter[]): Promise<NostrEvent[]>
  /** Number of stored (indexed, not deleted) events. */
  count (): number
  /** Called for every newly accepted event (stored or ephemeral), after it is durable. */
  onEvent (listener: (event: NostrEvent) => void): () => void
}
