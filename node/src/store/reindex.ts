import type { Logger } from 'pino'
import type { Config } from '../config/types.js'
import { Store } from './store.js'

/** `outpost reindex`: drops the derived index and rebuilds it from the logs. */
export async function reindexStore (config: Config, opts: { log: Logger }): Promise<{ events: number, logs: number, ms: number }> {
  const t0 = Date.now()
  const store = await Store.open({ dir: config.dataDir, limits: config.limits, store: config.store, log: opts.log, rebuildIndex: true, readOnly: config.role === 'relay' })
  try {
    return { events: store.count(), logs: store.nodeLog.logs.length, ms: Date.now() - t0 }
  } finally {
    await store.close()
  }
}
