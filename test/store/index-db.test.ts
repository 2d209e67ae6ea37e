import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { IndexDb } from '../../node/src/store/index-db.js'

async function openDb (t: Test): Promise<IndexDb> {
  const dir = await mkdtemp(path.join(tmpdir(), 'outpost-indexdb-'))
  const db = new IndexDb(dir, { writeBufferMiB: 1 })
  await db.ready()
  t.teardown(async () => { await db.close(); await rm(dir, { recursive: true, force: true }) })
  return db
}

const k = (s: string): Buffer => Buffer.from(s)
const str = (b: Buffer | null): string | null => b === null ? null : b.toString()

t.test('a view read ahead is brought up to date with the flushes made after it', async t => {
  const db = await openDb(t)
  const seed = db.batch()
  seed.put(k('a'), k('a0'))
  seed.put(k('b'), k('b0'))
  await seed.flush()

  const view = db.batch()
  await view.prefetch([k('a'), k('b'), k('c')])
  t.equal(str(await view.get(k('a'))), 'a0', 'read ahead')
  t.equal(str(await view.get(k('c'))), null)

  // another batch writes (as the previous block's indexing does) after the view read
  const other = db.batch()
  other.put(k('a'), k('a1'))
  other.del(k('b'))
  other.put(k('c'), k('c1'))
  await other.flush()
  t.equal(str(await view.get(k('a'))), 'a0', 'stale until refreshed')

  view.refresh()
  t.equal(str(await view.get(k('a'))), 'a1', 'overwritten key')
  t.equal(str(await view.get(k('b'))), null, 'deleted key')
  t.equal(str(await view.get(k('c'))), 'c1', 'key created after the read')

  // the refreshed view is a normal write batch
  view.put(k('d'), k('d1'))
  await view.flush()
  t.equal(str(await db.get(k('d'))), 'd1')
  t.equal(str(await db.get(k('a'))), 'a1', 'the refresh wrote nothing itself')
})

t.test('a view older than the remembered flushes drops its read-ahead values', async t => {
  const db = await openDb(t)
  const view = db.batch()
  await view.prefetch([k('x')])
  for (let i = 0; i < 40; i++) {
    const b = db.batch()
    b.put(k('x'), k(`x${i}`))
    await b.flush()
  }
  view.refresh()
  t.equal(str(await view.get(k('x'))), 'x39', 'read again from the database')
})

t.test('a flush in flight when a view is created counts as after it', async t => {
  const db = await openDb(t)
  const writer = db.batch()
  writer.put(k('y'), k('y1'))
  const flushing = writer.flush()
  const view = db.batch() // created while the write is not finished
  await view.prefetch([k('y')])
  await flushing
  view.refresh()
  t.equal(str(await view.get(k('y'))), 'y1')
})

t.test('peek answers from pending writes and values read ahead, never from RocksDB', async t => {
  const db = await openDb(t)
  const seed = db.batch()
  seed.put(k('a'), k('a0'))
  seed.put(k('z'), k('z0'))
  await seed.flush()

  const b = db.batch()
  t.equal(b.peek(k('a')), undefined, 'on disk but not read ahead: unknown')
  await b.prefetch([k('a'), k('b')], ['a', 'b'])
  t.equal(str(b.peek(k('a')) ?? null), 'a0', 'read ahead')
  t.equal(b.peek(k('b')), null, 'read ahead and absent')
  t.equal(b.peek(k('z')), undefined, 'never read ahead')
  b.put(k('b'), k('b1'), 'b')
  b.del(k('a'))
  t.equal(str(b.peek(k('b')) ?? null), 'b1', 'own pending write')
  t.equal(b.peek(k('a')), null, 'own pending delete')
  t.equal(str(await b.get(k('z'))), 'z0', 'get() still reads what was not read ahead')
})
