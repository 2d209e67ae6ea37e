import type { Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Store } from '../../node/src/store/store.js'
import { defaultConfig } from '../../node/src/config/load.js'
import type { Limits, StoreOptions } from '../../node/src/config/types.js'
import { testLogger } from './log.js'

const base = defaultConfig({ cwd: process.cwd(), isTTY: false })

/** The default limits with some overridden. */
export function testLimits (overrides: Partial<Limits> = {}): Limits {
  return { ...base.limits, ...overrides }
}

/** A real Store in a fresh temp dir, closed and removed when the test ends. */
export async function createStore (
  t: Test,
  opts: { limits?: Limits, store?: Partial<StoreOptions> } = {}
): Promise<Store> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-store-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const store = await Store.open({
    dir,
    limits: opts.limits ?? base.limits,
    // no commit window: tests should not wait on a timer to get their OK
    store: { ...base.store, commitWindowMs: 0, ...opts.store },
    log: testLogger()
  })
  // teardowns run last-in first-out: the store closes before its dir is removed
  t.teardown(() => store.close())
  return store
}
