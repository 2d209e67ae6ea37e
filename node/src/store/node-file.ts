import { promises as fs } from 'node:fs'
import path from 'node:path'

/** State that is not derivable from the logs: which epoch of the node log is current. */
export interface NodeFile {
  version: 1
  /** Current writer log is `node-log-<logEpoch>`; earlier epochs are read-only history. */
  logEpoch: number
  /** Why each rotation happened, for the operator. */
  rotations: Array<{ at: string, from: number, reason: string }>
}

const NAME = 'node.json'

export async function readNodeFile (dir: string): Promise<NodeFile> {
  try {
    const v = JSON.parse(await fs.readFile(path.join(dir, NAME), 'utf8')) as NodeFile
    if (v.version !== 1 || !Number.isSafeInteger(v.logEpoch)) throw new Error('unknown format')
    return v
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, logEpoch: 0, rotations: [] }
    throw Object.assign(new Error(`${path.join(dir, NAME)} is unreadable: ${(err as Error).message}`), { code: 'ERR_NODE_FILE' })
  }
}

/** Atomic and durable: write a temp file, fsync it, rename over, fsync the directory. A failed write leaves the old file and no temp file. */
export async function writeFileDurable (file: string, data: string, mode = 0o644): Promise<void> {
  const tmp = file + '.tmp'
  try {
    const fh = await fs.open(tmp, 'w', mode)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await fs.rename(tmp, file)
  } catch (err) {
    // e.g. ENOSPC: the old file stays as it was, and no half-written temp file takes space
    await fs.rm(tmp, { force: true }).catch(() => {})
    throw err
  }
  const dh = await fs.open(path.dirname(file), 'r')
  try { await dh.sync() } finally { await dh.close() }
}

export async function writeNodeFile (dir: string, v: NodeFile): Promise<void> {
  await writeFileDurable(path.join(dir, NAME), JSON.stringify(v, null, 2) + '\n')
}
