import path from 'node:path'
import type { Logger } from 'pino'
import type { Config } from '../config/types.js'
import type { Store } from '../store/store.js'
import { resolveCommunity } from './community.js'
import { loadIdentity, type KeyPair } from './identity.js'
import { admitNode, readAdmissionFile } from './admission.js'
import { SyncManager } from './sync-manager.js'
import { ConfigError } from '../config/config-error.js'
import type { NodeClock } from '../system/clock.js'

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
  if (config.role === 'relay' && a.role !== 'relay') log.warn({ file }, 'this relay holds a node certificate, which could admit a log of its own; ask the organiser for a relay certificate (outpost community admit --relay)')
  if (config.role !== 'relay' && a.role === 'relay') log.warn({ file }, 'this node holds a relay certificate: it syncs, but peers will not take the posts written here (ask for a node certificate)')
  return a.signature
}

/** Builds and starts the sync manager of a node (after the store; close it before the store). */
export async function startSync (config: Config, store: Store, log: Logger, clock?: NodeClock): Promise<SyncManager> {
  checkRelayCommunity(config)
  const { community, source } = await resolveCommunity(config.community, config.dataDir)
  if (config.role === 'relay' && community.secretKey !== null) {
    throw new ConfigError('community', `the relay role holds only the public part of a community, and ${config.community ?? 'the community file'} holds its secret key: give the relay the output of \`outpost community show --community FILE --public --out public.json\` and keep the secret with the organiser`)
  }
  const keyPair = await loadIdentity(config.dataDir, { create: true }) as KeyPair
  const admission = await ownAdmission(config, community, keyPair, log)
  const sync = new SyncManager({
    store,
    community,
    keyPair,
    admission,
    relay: config.role === 'relay',
    dataDir: config.dataDir,
    log,
    listen: { host: config.syncHost, port: config.syncPort },
    ...(clock !== undefined ? { clock } : {})
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

/** A relay serves somebody's community: it must be told which (it never makes one of its own). */
function checkRelayCommunity (config: Config): void {
  if (config.role === 'relay' && config.community === null) {
    throw new ConfigError('community', 'the relay role needs --community FILE|KEY (the public part of the community it carries; see outpost community show --public)')
  }
}

export function splitHostPort (s: string): { host: string, port: number } {
  const i = s.lastIndexOf(':')
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1')
  return { host, port: Number(s.slice(i + 1)) }
}
