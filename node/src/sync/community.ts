import { promises as fs } from 'node:fs'
import path from 'node:path'
import crypto from 'hypercore-crypto'
import { writeFileDurable } from '../store/node-file.js'

/**
 * A community: the unit of replication, identified by an ed25519 keypair. The organiser keeps
 * the secret; the public part is shared with every node and relay. An open community admits
 * every log; a closed one only logs of nodes admitted by a certificate (admission.ts).
 */
export interface Community {
  name: string
  publicKey: Buffer
  open: boolean
  /** Only on the organiser's copy (and on a node's own private community). */
  secretKey: Buffer | null
}

/** On-disk form, versioned. `secretKey` is absent from the public file. */
interface CommunityFileV1 {
  type: 'outpost-community'
  version: 1
  name: string
  publicKey: string
  open: boolean
  secretKey?: string
}

const MAX_NAME = 64
const HEX32 = /^[0-9a-f]{64}$/
const HEX64 = /^[0-9a-f]{128}$/

export class CommunityError extends Error {
  readonly code = 'ERR_COMMUNITY'
}

export function createCommunity (opts: { name?: string, open?: boolean } = {}): Community {
  const kp = crypto.keyPair()
  return { name: checkName(opts.name ?? 'Outpost community'), publicKey: kp.publicKey, open: opts.open === true, secretKey: kp.secretKey }
}

function checkName (name: string): string {
  if (name.length === 0 || name.length > MAX_NAME || /[\u0000-\u001f]/.test(name)) throw new CommunityError(`community name must be 1-${MAX_NAME} printable characters`)
  return name
}

/** The part that can be shared: no secret. */
export function publicPart (c: Community): Community {
  return { ...c, secretKey: null }
}

export function encodeCommunity (c: Community): string {
  const v: CommunityFileV1 = { type: 'outpost-community', version: 1, name: c.name, publicKey: c.publicKey.toString('hex'), open: c.open }
  if (c.secretKey !== null) v.secretKey = c.secretKey.toString('hex')
  return JSON.stringify(v, null, 2) + '\n'
}

export function decodeCommunity (text: string, where = 'community file'): Community {
  let v: Partial<CommunityFileV1>
  try {
    v = JSON.parse(text) as Partial<CommunityFileV1>
  } catch (err) {
    throw new CommunityError(`${where} is not JSON: ${(err as Error).message}`)
  }
  if (v === null || typeof v !== 'object' || v.type !== 'outpost-community') throw new CommunityError(`${where} is not an Outpost community file`)
  if (v.version !== 1) throw new CommunityError(`${where} has unsupported version ${String(v.version)} (this node reads version 1)`)
  if (typeof v.publicKey !== 'string' || !HEX32.test(v.publicKey)) throw new CommunityError(`${where}: publicKey must be 64 hex characters`)
  if (typeof v.open !== 'boolean') throw new CommunityError(`${where}: open must be true or false`)
  if (typeof v.name !== 'string') throw new CommunityError(`${where}: name must be a string`)
  const publicKey = Buffer.from(v.publicKey, 'hex')
  let secretKey: Buffer | null = null
  if (v.secretKey !== undefined) {
    if (typeof v.secretKey !== 'string' || !HEX64.test(v.secretKey)) throw new CommunityError(`${where}: secretKey must be 128 hex characters`)
    secretKey = Buffer.from(v.secretKey, 'hex')
    if (!crypto.validateKeyPair({ publicKey, secretKey })) throw new CommunityError(`${where}: secretKey does not belong to publicKey`)
  }
  return { name: checkName(v.name), publicKey, open: v.open, secretKey }
}

/** Writes atomically; a file holding the secret is created with mode 0600. */
export async function writeCommunityFile (file: string, c: Community): Promise<void> {
  const mode = c.secretKey === null ? 0o644 : 0o600
  await writeFileDurable(file, encodeCommunity(c), mode)
  await fs.chmod(file, mode)
}

export async function readCommunityFile (file: string): Promise<Community> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    throw new CommunityError(`cannot read community file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return decodeCommunity(text, file)
}

const OWN = 'community.json'

/**
 * The community of a node: `--community FILE`, `--community <64 hex public key>` (a closed
 * community known by its key only), or else the private community this data dir created on
 * its first start (so two strangers' nodes never merge by accident).
 */
export async function resolveCommunity (spec: string | null, dataDir: string): Promise<{ community: Community, source: 'file' | 'key' | 'private' }> {
  if (spec !== null) {
    const exists = await fs.stat(spec).then(() => true, () => false)
    if (!exists && HEX32.test(spec.toLowerCase())) {
      return { community: { name: 'community ' + spec.slice(0, 8), publicKey: Buffer.from(spec, 'hex'), open: false, secretKey: null }, source: 'key' }
    }
    return { community: await readCommunityFile(spec), source: 'file' }
  }
  const file = path.join(dataDir, OWN)
  try {
    return { community: decodeCommunity(await fs.readFile(file, 'utf8'), file), source: 'private' }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const c = createCommunity({ name: 'private community' })
  await fs.mkdir(dataDir, { recursive: true })
  await writeCommunityFile(file, c)
  return { community: c, source: 'private' }
}
