import t from 'tap'
import { getPublicKey } from 'nostr-tools/pure'
import { nsecEncode } from 'nostr-tools/nip19'
import { extractHashtags, normalizeTag, parseTagList, safeHref, tokenize } from '../../captive-portal/src/lib/text.js'
import { buildThread, flattenThread, parseRefs } from '../../captive-portal/src/lib/thread.js'
import { addFollow, followedPubkeys, removeFollow } from '../../captive-portal/src/lib/follows.js'
import { encryptKey, loadKey, parseSecret, saveKey, newIdentity, nsecOf } from '../../captive-portal/src/lib/keys.js'
import { forgetStoredKey, looksEncrypted, storedPubkey } from '../../captive-portal/src/lib/key-store.js'
import { Outbox, retryText, toJsonLines, verdictOf } from '../../captive-portal/src/lib/outbox.js'
import { noteTemplate, profileTemplate, deletionTemplate, reactionTemplate } from '../../captive-portal/src/lib/events.js'
import { matchesName, parseProfile } from '../../captive-portal/src/lib/profile.js'
import { detectCaptive, href, parseRoute } from '../../captive-portal/src/lib/env.js'
import { now, setClockOffset, type KeyValueStore } from '../../captive-portal/src/lib/types.js'
import { signer } from '../helpers/events.js'

function memoryStore (): KeyValueStore & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return { map, getItem: k => map.get(k) ?? null, setItem: (k, v) => { map.set(k, v) }, removeItem: k => { map.delete(k) } }
}

t.test('hashtags are found in any script, normalized and distinct; not inside links or words', async t => {
  t.same(extractHashtags('Going to #Music tonight #música, #music! #tent-12 and#not http://x.y/#frag #'), ['music', 'música', 'tent-12'])
  t.same(extractHashtags('#日本 #_x'), ['日本', '_x'])
  t.equal(normalizeTag('  ##Camping- '), 'camping')
  t.equal(normalizeTag('a b'), '')
  t.same(parseTagList('#camping, music  #Medic music'), ['camping', 'music', 'medic'])
  t.equal(parseTagList(Array.from({ length: 30 }, (_, i) => 't' + i).join(' ')).length, 20, 'at most 20 tags')
})

t.test('links become http(s) anchors only; everything else stays text', async t => {
  t.same(tokenize('see https://example.org/a?b=1. ok'), [
    { type: 'text', text: 'see ' },
    { type: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
    { type: 'text', text: '. ok' }
  ])
  t.same(tokenize('javascript:alert(1) <b>x</b> data:text/html,hi'), [{ type: 'text', text: 'javascript:alert(1) <b>x</b> data:text/html,hi' }])
  t.same(tokenize('(http://a.b/c) #Tag'), [
    { type: 'text', text: '(' },
    { type: 'link', text: 'http://a.b/c', href: 'http://a.b/c' },
    { type: 'text', text: ') ' },
    { type: 'tag', text: '#Tag', tag: 'tag' }
  ])
  t.equal(safeHref('http://user:pw@a.b/'), null, 'credentials in a link are refused')
  t.equal(safeHref('ftp://a.b/'), null)
  t.equal(safeHref('http://10.42.0.1/x'), 'http://10.42.0.1/x')
  const joined = tokenize('a https://x.y "quote" #t').map(x => x.text).join('')
  t.equal(joined, 'a https://x.y "quote" #t', 'tokens put back together give the text')
})

t.test('NIP-10: marked and positional e tags, threads built with orphans and cycles handled', async t => {
  const a = signer()
  const root = a.sign({ content: 'root' })
  const r1 = a.sign({ content: 'r1', tags: [['e', root.id, '', 'root']], created_at: root.created_at + 1 })
  const r2 = a.sign({ content: 'r2', tags: [['e', root.id, '', 'root'], ['e', r1.id, '', 'reply']], created_at: root.created_at + 2 })
  const old = a.sign({ content: 'positional', tags: [['e', root.id], ['e', r1.id]], created_at: root.created_at + 3 })
  t.same(parseRefs(r1), { root: root.id, reply: root.id, mentions: [] })
  t.same(parseRefs(r2), { root: root.id, reply: r1.id, mentions: [] })
  t.same(parseRefs(old), { root: root.id, reply: r1.id, mentions: [] })
  t.same(parseRefs(root), { mentions: [] })
  const missingParent = a.sign({ content: 'orphan', tags: [['e', root.id, '', 'root'], ['e', 'f'.repeat(64), '', 'reply']], created_at: root.created_at + 4 })
  const { root: tree } = buildThread([r2, old, r1, root, r1, missingParent], root.id)
  t.ok(tree)
  const flat = flattenThread(tree!).map(x => `${x.event.content}:${x.depth}`)
  t.same(flat, ['root:0', 'r1:1', 'r2:2', 'positional:2', 'orphan:1'], 'nested by reply, oldest first; a reply to a missing post hangs under the root')

  const b = signer()
  const x = b.sign({ content: 'x' })
  const y = b.sign({ content: 'y', tags: [['e', x.id, '', 'root'], ['e', 'a'.repeat(64), '', 'reply']] })
  t.same(buildThread([y], x.id).orphans.map(n => n.event.content), ['y'], 'without the root, replies are orphans')
})

t.test('follow list editing keeps other tags and never duplicates', async t => {
  const pk1 = 'a'.repeat(64)
  const pk2 = 'b'.repeat(64)
  const tags = [['p', pk1, 'wss://r', 'ann'], ['t', 'music']]
  const added = addFollow(tags, pk2)
  t.same(added, [['p', pk1, 'wss://r', 'ann'], ['t', 'music'], ['p', pk2]])
  t.same(addFollow(added, pk2), added, 'following twice is one entry')
  t.same(removeFollow(added, pk1), [['t', 'music'], ['p', pk2]])
  t.same(followedPubkeys({ tags: [...added, ['p', 'nothex'], ['p', pk2]] }), [pk1, pk2])
  t.same(followedPubkeys(null), [])
  t.throws(() => addFollow([], 'zz'), /not a public key/)
  t.equal(tags.length, 2, 'the input is not modified')
})

t.test('keys: import nsec, hex and ncryptsec; clear errors; stored as hex', async t => {
  const id = newIdentity()
  const nsec = nsecOf(id.sk)
  t.same(await parseSecret('  ' + nsec + '\n'), id.sk)
  t.same(await parseSecret('nostr:' + nsec.toUpperCase()), id.sk, 'case and a nostr: prefix do not matter')
  t.same(await parseSecret(Buffer.from(id.sk).toString('hex')), id.sk)
  const enc = await encryptKey(id.sk, 'pässword', 10)
  t.match(enc, /^ncryptsec1/)
  t.same(await parseSecret(enc, 'pässword'), id.sk)
  await t.rejects(parseSecret(enc), { code: 'PASSWORD_NEEDED' })
  await t.rejects(parseSecret(enc, 'wrong'), { code: 'BAD_PASSWORD' })
  await t.rejects(parseSecret(''), { code: 'EMPTY' })
  await t.rejects(parseSecret(nsec.slice(0, -1) + (nsec.endsWith('q') ? 'p' : 'q')), { code: 'FORMAT', message: /damaged/ }, 'a changed character fails the checksum')
  await t.rejects(parseSecret('npub1xyz'), { message: /public key/ })
  await t.rejects(parseSecret('hello'), { name: 'KeyError', code: 'FORMAT' })
  await t.rejects(parseSecret('0'.repeat(64)), { code: 'FORMAT' }, 'zero is not a valid secp256k1 key')
  t.equal(nsecEncode(id.sk), nsec)

  const store = memoryStore()
  t.equal(loadKey(store), null)
  saveKey(store, id.sk)
  const back = loadKey(store)
  t.equal(back?.pubkey, getPublicKey(id.sk))
  t.equal(storedPubkey(store), id.pubkey, 'the public key is readable without crypto')
  t.ok(looksEncrypted(' nostr:NCRYPTSEC1abc'))
  t.notOk(looksEncrypted(nsec))
  forgetStoredKey(store)
  t.equal(store.map.size, 0, 'forgetting removes the key and its public key')
  saveKey(store, id.sk)
  store.removeItem('outpost.pk')
  t.equal(storedPubkey(store), null, 'a key without its public key needs the crypto to derive it')
  store.setItem('outpost.sk', 'garbage')
  t.equal(loadKey(store), null, 'a damaged stored key reads as none, no crash')
})

t.test('outbox: persisted, ordered, exactly once by id, retries rate limits, keeps rejects', async t => {
  const store = memoryStore()
  const a = signer()
  const e1 = a.sign({ content: 'one' })
  const e2 = a.sign({ content: 'two' })
  const e3 = a.sign({ content: 'three' })
  const box = new Outbox(store)
  let changes = 0
  box.onChange(() => changes++)
  box.add(e1); box.add(e2); box.add(e1); box.add(e3)
  t.equal(box.size, 3, 'the same event queued twice is one entry')
  const reloaded = new Outbox(store)
  t.same(reloaded.pending.map(e => e.content), ['one', 'two', 'three'], 'survives a reload, in order')
  t.equal(box.settle(e1.id, false, 'duplicate: already have this event'), 'sent', 'a duplicate OK means it is on the relay')
  t.equal(box.settle(e2.id, false, 'rate-limited: slow down'), 'retry')
  t.equal(box.settle(e3.id, false, 'invalid: bad signature'), 'rejected')
  t.equal(box.settle(e3.id, true, ''), null, 'unknown ids are ignored')
  t.same(box.pending.map(e => e.content), ['two'])
  t.same(box.rejected.map(r => r.reason), ['invalid: bad signature'])
  t.same(new Outbox(store).pending.map(e => e.content), ['two'])
  t.ok(changes >= 4)
  t.equal(verdictOf(true, ''), 'sent')
  t.equal(verdictOf(false, 'blocked: no'), 'rejected')
  store.setItem('outpost.outbox', '{not json')
  t.equal(new Outbox(store).size, 0, 'damaged storage reads as empty')
  store.setItem('outpost.outbox', JSON.stringify([{ id: 1 }, e1]))
  t.same(new Outbox(store).pending.map(e => e.id), [e1.id], 'malformed entries are dropped')
  const full: KeyValueStore = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError') }, removeItem: () => {} }
  const inMemory = new Outbox(full)
  inMemory.add(e1)
  t.equal(inMemory.size, 1, 'a full storage keeps the queue in memory')
})

t.test('outbox: a node that asks to try again later says why until an event is taken', async t => {
  const a = signer()
  const e1 = a.sign({ content: 'one' })
  const box = new Outbox(memoryStore())
  box.add(e1)
  t.equal(box.retryReason, null)
  t.equal(box.settle(e1.id, false, 'error: this node\'s storage is full; the event was not stored, try again later'), 'retry')
  t.equal(box.retryReason, 'the node\'s storage is full; sent once space is freed')
  t.equal(box.size, 1, 'kept, to send again')
  t.equal(box.settle(e1.id, false, 'rate-limited: too many events from your address, try again in a minute'), 'retry')
  t.equal(box.retryReason, 'too many events from your address, try again in a minute')
  t.equal(box.settle(e1.id, true, ''), 'sent')
  t.equal(box.retryReason, null, 'cleared once the node takes an event')
  t.equal(retryText('error: could not store the event, try again'), 'could not store the event, try again')
})

t.test('export is JSON lines of signed events, oldest first, no duplicates', async t => {
  const a = signer()
  const late = a.sign({ content: 'b', created_at: 200 })
  const early = a.sign({ content: 'a', created_at: 100 })
  const text = toJsonLines([late, early, late])
  const lines = text.trim().split('\n').map(l => JSON.parse(l))
  t.same(lines, [early, late])
  t.ok(text.endsWith('\n'))
})

t.test('event templates: notes with t tags and NIP-10 replies, profiles, likes, deletions', async t => {
  const a = signer()
  const root = a.sign({ content: 'root', tags: [['p', 'c'.repeat(64)]] })
  const n = noteTemplate('hi #Music #music')
  t.same(n.tags, [['t', 'music']])
  const reply = a.sign(noteTemplate('re', root))
  t.same(reply.tags, [['e', root.id, '', 'root'], ['p', a.pubkey], ['p', 'c'.repeat(64)]])
  const deeper = noteTemplate('re re', reply)
  t.same(deeper.tags.slice(0, 2), [['e', root.id, '', 'root'], ['e', reply.id, '', 'reply']])
  const p = profileTemplate({ name: ' Ana ', about: 'x', tags: ['camping'] }, { website: 'http://a.b', name: 'old' })
  t.same(p.tags, [['t', 'camping']])
  t.same(JSON.parse(p.content), { website: 'http://a.b', name: 'Ana', display_name: 'Ana', about: 'x' }, 'unknown fields of the old profile are kept')
  t.same(reactionTemplate(root).tags, [['e', root.id], ['p', a.pubkey], ['k', '1']])
  t.same(deletionTemplate([root]).tags, [['e', root.id], ['k', '1']])
})

t.test('profiles: parsed defensively, name search folds case and accents', async t => {
  const a = signer()
  const p = parseProfile(a.sign({ kind: 0, content: JSON.stringify({ name: 'José', about: 5 }), tags: [['t', 'Music'], ['t', 'music'], ['t', '']] }))
  t.equal(p.name, 'José')
  t.equal(p.about, '')
  t.same(p.tags, ['music'])
  t.ok(matchesName(p, 'jose'))
  t.notOk(matchesName(p, 'ana'))
  t.notOk(matchesName(p, '  '))
  t.equal(parseProfile(a.sign({ kind: 0, content: '[1,2' })).name, '', 'broken JSON is an empty profile')
  t.equal(parseProfile(a.sign({ kind: 0, content: '"str"' })).name, '')
})

t.test('routes and captive sheet detection', async t => {
  const pk = 'a'.repeat(64)
  t.same(parseRoute('#/tag/M%C3%BAsica'), { name: 'tag', tag: 'música' })
  t.same(parseRoute('#/p/' + pk), { name: 'profile', pubkey: pk })
  t.same(parseRoute('#/e/nothex'), { name: 'here' })
  t.same(parseRoute('#/people/%E0%A4%A'), { name: 'people', query: '' }, 'a bad escape is not a crash')
  t.same(parseRoute(''), { name: 'here' })
  for (const r of [{ name: 'tag', tag: 'a b' }, { name: 'people', query: '#music' }, { name: 'me' }, { name: 'following' }] as const) {
    t.same(parseRoute(href(r)), r, 'href and parseRoute round trip ' + r.name)
  }
  const ios = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'
  const safari = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'
  const wv = 'Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0 Mobile Safari/537.36'
  const chrome = 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36'
  t.same(detectCaptive(ios, true), { captive: true, reason: 'ios-sheet' })
  t.same(detectCaptive(safari, true), { captive: false, reason: '' })
  t.same(detectCaptive(wv, true), { captive: true, reason: 'android-sign-in' })
  t.same(detectCaptive(chrome, true), { captive: false, reason: '' })
  t.same(detectCaptive(chrome, false), { captive: true, reason: 'no-storage' })
})

t.test('signing time follows the node only when the phone is clearly off', async t => {
  const real = (): number => Math.floor(Date.now() / 1000)
  t.teardown(() => setClockOffset(0))
  setClockOffset(7200.4)
  t.ok(Math.abs(now() - (real() + 7200)) <= 1, 'two hours off: corrected')
  setClockOffset(5)
  t.ok(Math.abs(now() - real()) <= 1, 'a few seconds: the phone clock is kept')
  setClockOffset(Number.NaN)
  t.ok(Math.abs(now() - real()) <= 1, 'garbage is ignored')
})
