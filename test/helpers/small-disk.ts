import { execFileSync } from 'node:child_process'
import { promises as fs, statfsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'

export const MiB = 1024 * 1024

export interface SmallDisk {
  /** The mount point (a data directory goes beneath it). */
  dir: string
  /** Bytes free for an unprivileged writer (what the node's statfs reads). */
  free: () => number
  /** Grows or shrinks a filler file so that about `bytes` stay free. */
  leaveFree: (bytes: number) => Promise<void>
  /** Deletes the filler file. */
  freeAll: () => Promise<void>
}

/**
 * A real, small file system: tmpfs of `mib` MiB mounted for this test (needs root), unmounted
 * in teardown. tmpfs fails a write with ENOSPC at write() time, as ext4 on an SD card does
 * (delayed allocation reserves blocks at write time); statfs reports its free space the same way.
 */
export async function smallDisk (t: Test, mib: number): Promise<SmallDisk> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-test-disk-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', dir])
  // registered first, so it runs after the teardowns of the node processes using it
  t.teardown(async () => {
    execFileSync('umount', ['-l', dir])
    await rm(dir, { recursive: true, force: true })
  })
  const filler = path.join(dir, 'filler')
  const free = (): number => { const s = statfsSync(dir); return s.bavail * s.bsize }
  const leaveFree = async (bytes: number): Promise<void> => {
    const size = await fs.stat(filler).then(s => s.size, () => 0)
    const target = Math.max(0, size + free() - bytes)
    if (target <= size) { await fs.truncate(filler, target).catch(() => {}); return }
    // written, not truncated up: a sparse file would take no space
    const fh = await fs.open(filler, 'a')
    try {
      const chunk = Buffer.alloc(MiB, 0x55)
      for (let left = target - size; left > 0; left -= chunk.length) {
        await fh.write(chunk, 0, Math.min(chunk.length, left))
      }
    } finally {
      await fh.close()
    }
  }
  const freeAll = async (): Promise<void> => { await fs.rm(filler, { force: true }) }
  return { dir, free, leaveFree, freeAll }
}
