import { promises as fs } from 'node:fs'
import path from 'node:path'
import crypto from 'hypercore-crypto'
import { writeFileDurable } from '../store/node-file.js'

export interface KeyPair { publicKey: Buffer, secretKey: Buffer }

const FILE = 'node-key.json'

export function identityFile (dataDir: string): string {
  return path.join(dataDir, FILE)
}

/**
 * The node's Noise keypair (ed25519), made at first start and kept in the data dir (0600).
 * It authenticates sync connections and signs the node's own logs. Never copy it between nodes.
 */
export async function loadIdentity (dataDir: string, opts: { create?: boolean } = {}): Promise<KeyPair | null> {
  const file = identityFile(dataDir)
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as { version?: number, publicKey?: string, secretKey?: string }
    if (v.version !== 1 || typeof v.publicKey !== 'string' || typeof v.secretKey !== 'string') throw new Error('unknown format')
    const kp = { publicKey: Buffer.from(v.publicKey, 'hex'), secretKey: Buffer.from(v.secretKey, 'hex') }
    if (kp.publicKey.length !== 32 || kp.secretKey.length !== 64 || !crypto.validateKeyPair(kp)) throw new Error('keys do not match')
    return kp
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw Object.assign(new Error(`${file} is unreadable: ${(err as Error).message}`), { code: 'ERR_NODE_KEY' })
    }
  }
  if (opts.create !== true) return null
  const kp = crypto.keyPair()
  await fs.mkdir(dataDir, { recursive: true })
  await writeFileDurable(file, JSON.stringify({ version: 1, publicKey: kp.publicKey.toString('hex'), secretKey: kp.secretKey.toString('hex') }, null, 2) + '\n', 0o600)
  await fs.chmod(file, 0o600)
  return kp
}
