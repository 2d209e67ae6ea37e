import { promises as fs } from 'node:fs'
import path from 'node:path'

export interface DirLock { release (): Promise<void> }

const held = new Set<string>()

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One node per data dir. A pid file names the holder; a stale one (its process is gone,
 * e.g. after a power cut or SIGKILL) is taken over. RocksDB's own LOCK files back this up.
 */
export async function acquireLock (dir: string): Promise<DirLock> {
  const file = path.join(dir, 'outpost.pid')
  const abs = path.resolve(file)
  const locked = (pid: number): Error => Object.assign(
    new Error(`data directory ${path.resolve(dir)} is in use by another Outpost node (pid ${pid}); stop it first or pass another --data`),
    { code: 'ERR_LOCKED' }
  )
  if (held.has(abs)) throw locked(process.pid)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fs.open(file, 'wx')
      await fh.writeFile(String(process.pid) + '\n')
      await fh.close()
      held.add(abs)
      return {
        release: async () => {
          if (!held.delete(abs)) return
          await fs.rm(file, { force: true })
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number.parseInt(await fs.readFile(file, 'utf8').catch(() => ''), 10)
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw locked(pid)
      await fs.rm(file, { force: true })
    }
  }
  throw locked(0)
}
