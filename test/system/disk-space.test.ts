import t from 'tap'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { DiskSpace, isNoSpace } from '../../node/src/system/disk-space.js'
import { smallDisk, MiB } from '../helpers/small-disk.js'

function capture (): { log: pino.Logger, warnings: () => string[] } {
  const lines: string[] = []
  const dest = new Writable({ write (chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb() } })
  const log = pino({ level: 'info' }, dest)
  return { log, warnings: () => lines.map(l => JSON.parse(l) as { level: number, msg: string }).filter(l => l.level === 40).map(l => l.msg) }
}

t.test('the reserve on a real small file system: full below it, back only a margin above it, one line per transition', async t => {
  const disk = await smallDisk(t, 32)
  const { log, warnings } = capture()
  const space = new DiskSpace({ dir: disk.dir, reserve: 8 * MiB, log, checkMs: 60_000 })
  t.teardown(() => { space.close() })
  const changes: boolean[] = []
  space.on('change', (full: boolean) => changes.push(full))
  await space.start()
  t.equal(space.full, false)
  t.equal(space.status().reserve, 8 * MiB)

  await disk.leaveFree(7 * MiB)
  space.wrote(512 * 1024)
  t.equal(space.full, false, 'half a MiB written: no new reading yet')
  space.wrote(512 * 1024)
  await space.check() // shares the reading the second wrote() started
  t.equal(space.full, true, 'a MiB written: read again at once (no wait for the timer), below the reserve')
  t.ok((space.status().free as number) < 8 * MiB)

  await disk.leaveFree(8 * MiB + MiB / 2)
  await space.check()
  t.equal(space.full, true, 'just above the reserve is not enough to flap back')
  await disk.leaveFree(10 * MiB)
  await space.check()
  t.equal(space.full, false, 'back with a margin above the reserve')
  await space.check()
  t.same(changes, [true, false], 'one change each way')
  t.same(warnings().map(w => w.split(':')[0]), ['disk full', 'disk space is back'], 'one warning line each way')
})

t.test('a write that ran out of space: full at once, and "reopen" once a reading finds space back', async t => {
  const disk = await smallDisk(t, 16)
  const { log } = capture()
  const space = new DiskSpace({ dir: disk.dir, reserve: 0, log, checkMs: 60_000 })
  t.teardown(() => { space.close() })
  await space.start()
  const reopen: string[] = []
  space.on('reopen', (why: string) => reopen.push(why))
  await disk.leaveFree(MiB)
  const err = new Error('Batch was not applied', { cause: new Error('While appending to file: x.blob: No space left on device') })
  t.ok(isNoSpace(err), 'found in the cause of a rocksdb-native error')
  t.ok(isNoSpace(Object.assign(new Error('write'), { code: 'ENOSPC' })))
  t.notOk(isNoSpace(new Error('Corruption: bad block')))
  space.writeFailed(err)
  t.equal(space.full, true)
  t.match(space.status().writeFailed, /Batch was not applied/)
  await space.check()
  t.same(reopen, [], 'not with 1 MiB free: it would fail again at once')
  t.equal(space.full, true)
  await disk.freeAll()
  await space.check()
  t.equal(reopen.length, 1, 'space back: reopen')
  t.equal(space.full, false)
  t.equal(space.status().writeFailed, null)
})
