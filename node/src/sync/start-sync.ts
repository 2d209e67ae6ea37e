import path from 'node:path'
import type { Logger } from 'pino'
import type { Config } from '../config/types.js'
import type { Store } from '../store/store.js'
import { resolveCommunity } from './community.js'
import { loadIdentity, type KeyPair } from './identity.js'
import { admitNode, readAdmissionFile } from './admission.js'
import { SyncManager } from './sync-manager.js'

export const ADMISSION_FILE = 'admission.json'

/** This node's admission: self-issued with the community secret, or the organiser's certificate. */
async function ownAdmission (config: Config, community: Awaited<ReturnType<typeof resolveCommunity>>['community'], keyPair: KeyPair, log: Logger): Promise<Buffer | null> {
  if (community.secretKey !== null) return admitNode(community, keyPair.publicKey)
  const file = path.join(config.dataDir, ADMISSION_FILE)
  const a = await readAdmissionFile(file)
  if (a === null) return null
  if (!a.community.equals(community.publicKey) || !a.node.equals(keyPair.publicKey)) {
    log.warn({ file }, 'ignoring an admission certificate made for another community or node')
    return null
  }
  return a.signature
}

/** Builds and starts the sync manager of a node (after the store; close it before the store). */
export async function startSync (config: Config, store: Store, log: Logger): Promise<SyncManager> {
  const { community, source } = await resolveCommunity(config.community, config.dataDir)
  const keyPair = await loadIdentity(config.dataDir, { create: true }) as KeyPair
  const admission = await ownAdmission(config, community, keyPair, log)
  const sync = new SyncManager({
    store,
    community,
    keyPair,
    admission,
    dataDir: config.dataDir,
    log,
    listen: { host: config.syncHost, port: config.syncPort }
  })
  try {
    await sync.start()
    log.info({ community: community.name, source, open: community.open, admitted: sync.admitted }, 'sync started')
    for (const p of config.peers) sync.addPeerAddress({ ...splitHostPort(p), source: 'static' })
  } catch (err) {
    await sync.close().catch(() => {})
    throw err
  }
  return sync
}

export function splitHostPort (s: string): { host: string, port: number } {
  const i = s.lastIndexOf(':')
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1')
  return { host, port: Number(s.slice(i + 1)) }
}
