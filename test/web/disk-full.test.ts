import t from 'tap'
import path from 'node:path'
import { WAIT, createIdentity, launchBrowser, phone, relayQuery, startNode, writePost } from '../helpers/browser.js'
import { smallDisk, MiB } from '../helpers/small-disk.js'

// A real node whose data directory is on a small tmpfs, filled below its free-space reserve.
t.test('a post refused because the node\'s storage is full waits on the phone, says why, and goes once space is freed', async t => {
  const disk = await smallDisk(t, 48)
  const { node, base } = await startNode(t, ['--data', path.join(disk.dir, 'data'), '--min-free-disk', '8M'])
  const browser = await launchBrowser(t)
  const P = await phone(browser)
  await createIdentity(P.page, base, { name: 'Camper' })
  await P.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })

  await disk.leaveFree(7 * MiB)
  await node.waitForOutput('disk full: free space is below the reserve')
  await writePost(P.page, 'written while the card is full')
  await P.page.getByTestId('pending-reason').getByText('the node\'s storage is full; sent once space is freed').waitFor(WAIT)
  t.pass('the status line says the node\'s storage is full')
  t.equal((await relayQuery(base, { kinds: [1] })).length, 0, 'nothing stored yet')

  await disk.freeAll()
  await P.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  t.same((await relayQuery(base, { kinds: [1] })).map(e => e.content), ['written while the card is full'], 'sent by itself once space is back')
  t.same(P.problems, [])
})
