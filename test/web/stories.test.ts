import t from 'tap'
import { readFileSync } from 'node:fs'
import { verifyEvent } from 'nostr-tools/pure'
import type { NostrEvent } from '../../node/src/events/types.js'
import { WAIT, createIdentity, launchBrowser, phone, relayQuery, screenshot, startNode, writePost } from '../helpers/browser.js'

t.test('two phones: identity with tags, post, find by tag, follow, reply live, like, delete, export, import on a third phone', async t => {
  const { base } = await startNode(t)
  const browser = await launchBrowser(t)

  // A looks first: the Here timeline before any identity
  const A = await phone(browser)
  const aRequests: string[] = []
  A.page.on('request', r => aRequests.push(r.url()))
  await A.page.goto(base)
  await A.page.getByTestId('status').getByText('Connected').waitFor(WAIT)
  await A.page.getByText('Nothing posted here yet').waitFor(WAIT)
  t.equal(await A.page.locator('#compose').count(), 0, 'no composer before an identity')
  await screenshot(A.page, 'here-visitor')
  t.notOk(aRequests.some(u => /\/assets\/(keys|nip49|qr|inbox|messages|dm)-/.test(u)), 'a visitor downloads no key, QR code or messaging code')
  t.same(aRequests.filter(u => /\/assets\/.*\.js$/.test(u)).map(u => new URL(u).pathname.replace(/-[0-9a-f]{12}/, '')), ['/assets/index.js'], 'only the app bundle')
  t.ok(aRequests.some(u => /\/assets\/index-/.test(u)))

  // identity in one tap, with profile tags
  await A.page.locator('.tabs').getByRole('link', { name: 'Join', exact: true }).click()
  await A.page.getByLabel('Display name').fill('Alice Camp')
  await A.page.getByLabel('Short bio').fill('Tent 12, bring tea')
  await A.page.getByLabel('Your tags').fill('#camping music, #Medic')
  await A.page.getByRole('button', { name: 'Create my identity' }).click()
  await A.page.getByText('Saved.').waitFor(WAIT)
  const aKey = await A.page.evaluate('localStorage.getItem("outpost.sk")')
  t.match(aKey, /^[0-9a-f]{64}$/, 'the secret key is kept in the browser')

  await writePost(A.page, 'Hello from the meadow #music')
  await A.page.locator('.post').getByText('Hello from the meadow').waitFor(WAIT)
  await A.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  await screenshot(A.page, 'here-posted')

  const [aProfile] = await relayQuery(base, { kinds: [0] })
  t.ok(aProfile, 'the profile reached the relay')
  const aPub = (aProfile as NostrEvent).pubkey
  t.same((aProfile as NostrEvent).tags, [['t', 'camping'], ['t', 'music'], ['t', 'medic']], 'kind 0 carries the profile tags as t tags')
  t.equal(JSON.parse((aProfile as NostrEvent).content).name, 'Alice Camp')
  const [aPost] = await relayQuery(base, { kinds: [1], authors: [aPub] })
  t.same((aPost as NostrEvent).tags, [['t', 'music']], 'the post carries its hashtag')
  const everything = JSON.stringify(await relayQuery(base, {}))
  t.ok(everything.includes(aPub) && !everything.includes(aKey as string), 'the secret key never reached the node')

  // B sees A's post before joining, joins, finds A by tag and follows
  const B = await phone(browser)
  await B.page.goto(base)
  await B.page.locator('.post').getByText('Hello from the meadow').waitFor(WAIT)
  await createIdentity(B.page, base, { name: 'Bob', tags: '#music' })
  await B.page.locator('.tabs').getByRole('link', { name: 'People', exact: true }).click()
  // the tags people use here are offered before any search; one tap searches by tag
  await B.page.getByRole('link', { name: '#camping 1' }).click()
  await B.page.waitForURL(/people\/%23camping$/)
  await B.page.locator('.person').getByText('Alice Camp').waitFor(WAIT)
  t.equal(await B.page.locator('.person').count(), 1, 'only A has the tag camping')
  await B.page.getByRole('button', { name: 'Follow Alice Camp' }).click()
  await B.page.getByRole('button', { name: 'Unfollow Alice Camp' }).waitFor(WAIT)
  await screenshot(B.page, 'people-search')

  // by name as well, case- and accent-insensitive
  await B.page.getByLabel('Find people by name or #tag').fill('alíce')
  await B.page.getByRole('button', { name: 'Search' }).click()
  await B.page.waitForURL(/people\/al/)
  await B.page.locator('.person').getByText('Alice Camp').waitFor(WAIT)

  await B.page.locator('.tabs').getByRole('link', { name: 'Following', exact: true }).click()
  await B.page.locator('.post').getByText('Hello from the meadow').waitFor(WAIT)
  await B.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  const contacts = await relayQuery(base, { kinds: [3] })
  t.same(contacts.map(e => e.tags), [[['p', aPub]]], 'B published a kind 3 follow list naming A')

  // B replies; A, sitting on Here, sees the reply live
  await B.page.locator('.post', { hasText: 'Hello from the meadow' }).getByRole('link', { name: 'Reply or see replies' }).click()
  await B.page.getByLabel('Your reply').fill('Welcome Alice! #music')
  await B.page.getByRole('button', { name: 'Reply', exact: true }).click()
  await B.page.locator('.post.nested').getByText('Welcome Alice!').waitFor(WAIT)
  await A.page.locator('.post', { hasText: 'Welcome Alice!' }).getByText('reply to').waitFor(WAIT)
  const [reply] = await relayQuery(base, { kinds: [1], '#e': [(aPost as NostrEvent).id] })
  t.same((reply as NostrEvent).tags.filter(x => x[0] === 'e'), [['e', (aPost as NostrEvent).id, '', 'root']], 'NIP-10 marked root tag')
  t.ok((reply as NostrEvent).tags.some(x => x[0] === 'p' && x[1] === aPub), 'the reply tags A')

  // A opens the thread: the reply is nested under the post; A likes it
  await A.page.locator('.post', { hasText: 'Welcome Alice!' }).getByRole('link', { name: 'Reply or see replies' }).click()
  await A.page.locator('.thread .post.nested').getByText('Welcome Alice!').waitFor(WAIT)
  await A.page.locator('.post.nested').getByRole('button', { name: /likes/ }).click()
  await A.page.locator('.post.nested .act.on .count').getByText('1').waitFor(WAIT)
  await A.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  await screenshot(A.page, 'thread')
  t.equal((await relayQuery(base, { kinds: [7] })).length, 1, 'one kind 7 like')

  // A deletes a post of its own; B no longer gets it
  await writePost(A.page, 'oops, wrong tent')
  const oops = A.page.locator('.post', { hasText: 'oops, wrong tent' })
  await oops.getByRole('button', { name: 'Delete' }).click()
  await oops.getByRole('button', { name: 'Delete for sure' }).click()
  await oops.waitFor({ state: 'detached', ...WAIT })
  await A.page.getByTestId('pending').waitFor({ state: 'detached', ...WAIT })
  t.equal((await relayQuery(base, { kinds: [5] })).length, 1, 'a kind 5 deletion was published')
  await B.page.goto(base + '#/')
  await B.page.locator('.post').getByText('Welcome Alice!').waitFor(WAIT)
  t.equal(await B.page.getByText('oops, wrong tent').count(), 0, 'the deleted post is gone for others')

  // A follows B back, then backs up the key (nsec + QR, and a password-protected copy)
  await A.page.goto(base + '#/p/' + (reply as NostrEvent).pubkey)
  await A.page.getByRole('button', { name: 'Follow Bob' }).click()
  await A.page.getByRole('button', { name: 'Unfollow Bob' }).waitFor(WAIT)
  await A.page.locator('.tabs').getByRole('link', { name: 'Me', exact: true }).click()
  await A.page.getByText('Following 1').waitFor(WAIT)
  await screenshot(A.page, 'me')
  await A.page.getByText('Back up your key').click()
  await A.page.getByRole('button', { name: 'Show my secret key' }).click()
  const nsec = await A.page.getByTestId('nsec').textContent()
  t.match(nsec, /^nsec1[02-9ac-hj-np-z]{58}$/, 'the key is shown as nsec')
  const qr = A.page.getByRole('img', { name: 'Your secret key as a QR code' })
  await qr.waitFor(WAIT)
  t.ok(await qr.locator('path').getAttribute('d').then(d => (d ?? '').length > 1000), 'and as a QR code (loaded on demand)')
  await A.page.getByLabel('Or protect it with a password').fill('tent 12 tea')
  await A.page.getByRole('button', { name: 'Make protected copy' }).click()
  const ncryptsec = await A.page.getByTestId('ncryptsec').textContent(WAIT)
  t.match(ncryptsec, /^ncryptsec1/, 'NIP-49 export')
  await screenshot(A.page, 'backup')

  // export everything A wrote as signed events
  const [download] = await Promise.all([A.page.waitForEvent('download'), A.page.getByRole('button', { name: 'Export my posts' }).click()])
  const lines = readFileSync(await download.path(), 'utf8').trim().split('\n').map(l => JSON.parse(l) as NostrEvent)
  t.ok(lines.every(e => e.pubkey === aPub && verifyEvent(e)), 'every exported line is a valid event signed by A')
  t.same([...new Set(lines.map(e => e.kind))].sort(), [0, 1, 3, 5, 7], 'profile, posts, follows, deletion and like are all there')

  // a third phone imports the protected key: same profile, same follows
  const C = await phone(browser)
  await C.page.goto(base + '#/me')
  await C.page.getByRole('button', { name: 'I already have a key' }).click()
  await C.page.getByLabel('Your secret key').fill(ncryptsec as string)
  await C.page.getByLabel('Password of this key').fill('wrong')
  await C.page.getByRole('button', { name: 'Use this key' }).click()
  await C.page.getByText('Wrong password').waitFor(WAIT)
  await C.page.getByLabel('Password of this key').fill('tent 12 tea')
  await C.page.getByRole('button', { name: 'Use this key' }).click()
  await C.page.getByText('Following 1').waitFor(WAIT)
  t.equal(await C.page.getByLabel('Display name').inputValue(), 'Alice Camp', 'the profile came back from the relay')
  t.equal(await C.page.getByLabel('Your tags').inputValue(), '#camping #music #medic', 'with its tags')
  t.equal(await C.page.evaluate('localStorage.getItem("outpost.sk")'), aKey, 'same key as A')
  await C.page.locator('.tabs').getByRole('link', { name: 'Following', exact: true }).click()
  await C.page.locator('.post').getByText('Welcome Alice!').waitFor(WAIT)

  for (const p of [A, B, C]) t.same(p.problems, [], 'no page errors, no CSP violations')
})
