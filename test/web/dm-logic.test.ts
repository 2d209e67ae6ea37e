import t from 'tap'
import { generateSecretKey, getEventHash, getPublicKey, verifyEvent } from 'nostr-tools/pure'
import * as nip17 from 'nostr-tools/nip17'
import { encrypt, getConversationKey } from 'nostr-tools/nip44'
import { MAX_MESSAGE, MAX_ROOM, READ_STORAGE, groupConversations, loadReadMarks, markRead, nextCreatedAt, parseRoom, peerOf, roomOf, type Rumor } from '../../captive-portal/src/lib/dm.js'
import { href, parseRoute } from '../../captive-portal/src/lib/env.js'
import { TWO_DAYS, chatRumor, giftWrap, openWrap, seal, wrapMessage } from '../../captive-portal/src/lib/dm-crypto.js'
import { signEvent } from '../../captive-portal/src/lib/keys.js'
import type { KeyValueStore } from '../../captive-portal/src/lib/types.js'

function memoryStore (): KeyValueStore & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return { map, getItem: k => map.get(k) ?? null, setItem: (k, v) => { map.set(k, v) }, removeItem: k => { map.delete(k) } }
}

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const C = 'c'.repeat(64)
let seq = 0
function msg (from: string, to: string | string[], at: number, content = 'm' + String(++seq)): Rumor {
  const tags = (Array.isArray(to) ? to : [to]).map(p => ['p', p])
  return { id: String(++seq).padStart(64, '0'), pubkey: from, created_at: at, kind: 14, tags, content }
}

t.test('peerOf: the other person of a one-to-one message; group chats and messages not for me are left out', async t => {
  t.equal(peerOf(msg(A, B, 1), A), B, 'sent by me: the recipient')
  t.equal(peerOf(msg(B, A, 1), A), B, 'received: the sender')
  t.equal(peerOf(msg(A, A, 1), A), A, 'a note to self')
  t.equal(peerOf(msg(B, [A, C], 1), A), null, 'a group chat')
  t.equal(peerOf(msg(A, [B, C], 1), A), null, 'a group chat I started')
  t.equal(peerOf(msg(B, C, 1), A), null, 'between two others (cannot be in a wrap for me, but is not shown)')
  t.equal(peerOf(msg(B, [], 1), A), null, 'no recipient')
  t.equal(peerOf({ ...msg(B, A, 1), kind: 1 }, A), null, 'not kind 14')
  t.equal(peerOf({ ...msg(B, A, 1), tags: [['p', 'zz'], ['p', A], ['p', A]] }, A), B, 'junk and repeated p tags do not matter')
})

t.test('roomOf: a chat room is the sender plus the p tags, keyed by the others than me, sorted', async t => {
  t.equal(roomOf(msg(A, B, 1), A), B, 'one-to-one sent: the key is the peer, as before')
  t.equal(roomOf(msg(B, A, 1), A), B, 'one-to-one received')
  t.equal(roomOf(msg(A, A, 1), A), A, 'a note to self')
  t.equal(roomOf(msg(B, [A, C], 1), A), B + ',' + C, 'a group from B')
  t.equal(roomOf(msg(C, [B, A], 1), A), B + ',' + C, 'the same group from C: the same room')
  t.equal(roomOf(msg(A, [C, B, C], 1), A), B + ',' + C, 'a group I started, repeats once')
  t.equal(roomOf(msg(B, [A, C, 'zz'], 1), A), B + ',' + C, 'junk p tags do not count')
  t.equal(roomOf(msg(B, C, 1), A), null, 'not involving me')
  t.equal(roomOf(msg(A, [], 1), A), null, 'no recipient')
  t.equal(roomOf({ ...msg(B, [A, C], 1), kind: 1 }, A), null, 'not kind 14')
  const many = Array.from({ length: MAX_ROOM + 1 }, (_, i) => (i + 1).toString(16).padStart(64, '0'))
  t.equal(roomOf(msg(A, many.slice(0, MAX_ROOM), 1), A), many.slice(0, MAX_ROOM).join(','), 'up to the cap')
  t.equal(roomOf(msg(A, many, 1), A), null, 'beyond the cap: ignored')
  t.equal(roomOf(msg(many[0] as string, [A, ...many.slice(1)], 1), A), null, 'the sender counts too')
})

t.test('room keys from links and storage: only sorted, unique pubkeys up to the cap', async t => {
  t.equal(parseRoom(B), B)
  t.equal(parseRoom(B + ',' + C), B + ',' + C)
  for (const bad of [C + ',' + B, B + ',' + B, B + ',', ',' + B, '', B.toUpperCase(), B + ' ,' + C, Array.from({ length: MAX_ROOM + 1 }, (_, i) => (i + 1).toString(16).padStart(64, '0')).join(',')]) {
    t.equal(parseRoom(bad), null, 'refused: ' + bad.slice(0, 20))
  }
  t.same(parseRoute('#/dm/' + B + ',' + C), { name: 'chat', room: B + ',' + C })
  t.same(parseRoute('#/dm/' + B), { name: 'chat', room: B }, 'a one-to-one link as before')
  t.same(parseRoute('#/dm/' + C + ',' + B), { name: 'messages' }, 'unsorted: not a room')
  t.same(parseRoute('#/dm/' + B + ',' + B), { name: 'messages' }, 'repeated: not a room')
  t.equal(href({ name: 'chat', room: B + ',' + C }), '#/dm/' + B + ',' + C)
})

t.test('conversations: grouped by person, newest conversation first, messages oldest first, unread from the read mark', async t => {
  const m1 = msg(B, A, 100, 'hi from B')
  const m2 = msg(A, B, 105, 'hi B')
  const m3 = msg(B, A, 110, 'how are you')
  const m4 = msg(C, A, 107, 'C here')
  const other = msg(B, C, 200, 'between others')
  const list = groupConversations([m3, m1, m4, m2, m1, other], A, {})
  t.same(list.map(c => c.peer), [B, C], 'B wrote last')
  t.same(list[0]?.messages.map(m => m.content), ['hi from B', 'hi B', 'how are you'], 'oldest first, the duplicate once')
  t.same(list.map(c => c.unread), [2, 1], 'my own messages are never unread')
  t.equal(list[0]?.last.content, 'how are you')
  const read = groupConversations([m1, m2, m3, m4], A, { [B]: 110 })
  t.same(read.map(c => c.unread), [0, 1])
  t.same(groupConversations([m1, m2, m3], A, { [B]: 100 })[0]?.unread, 1, 'only what came after the mark')
  const same = [msg(B, A, 5, 'x'), msg(A, B, 5, 'y')]
  t.same(groupConversations(same, A, {})[0]?.messages.map(m => m.content), groupConversations([...same].reverse(), A, {})[0]?.messages.map(m => m.content), 'same second: the same order whatever the arrival order')
  t.same(groupConversations([], A, {}), [])
  const g1 = msg(B, [A, C], 300, 'group hi')
  const g2 = msg(C, [A, B], 301, 'group reply')
  const g3 = msg(A, [C, B], 302, 'mine')
  const groups = groupConversations([m1, g1, g2, g3], A, { [B + ',' + C]: 300 })
  t.same(groups.map(c => c.peer), [B + ',' + C, B], 'one group room for the three of us, before the older one-to-one')
  t.same(groups[0]?.members, [B, C])
  t.same(groups[0]?.messages.map(m => m.content), ['group hi', 'group reply', 'mine'])
  t.equal(groups[0]?.unread, 1, 'read marks per room')
  t.same(groups[1]?.members, [B])
})

t.test('a new message is dated after the conversation\'s newest one, within reason', async t => {
  t.equal(nextCreatedAt(1000, undefined), 1000)
  t.equal(nextCreatedAt(1000, msg(B, A, 990)), 1000)
  t.equal(nextCreatedAt(1000, msg(B, A, 1000)), 1001, 'a reply in the same second sorts after what it answers')
  t.equal(nextCreatedAt(1000, msg(B, A, 1010)), 1011, 'a peer a little ahead')
  t.equal(nextCreatedAt(1000, msg(B, A, 5000)), 1000, 'a peer far in the future does not drag this phone along')
})

t.test('read marks persist, never go backwards, and damaged storage reads as none', async t => {
  const store = memoryStore()
  t.same(loadReadMarks(store), {})
  let marks = markRead(store, {}, B, 50)
  marks = markRead(store, marks, B, 40)
  t.same(marks, { [B]: 50 })
  t.same(loadReadMarks(store), { [B]: 50 })
  store.setItem(READ_STORAGE, '{"nothex": 3, "' + C + '": "x", "' + A + '": 7}')
  t.same(loadReadMarks(store), { [A]: 7 })
  store.setItem(READ_STORAGE, '{"' + B + ',' + C + '": 9, "' + C + ',' + B + '": 9}')
  t.same(loadReadMarks(store), { [B + ',' + C]: 9 }, 'a room\'s mark; an unsorted key is not a room')
  store.setItem(READ_STORAGE, 'not json')
  t.same(loadReadMarks(store), {})
  store.setItem(READ_STORAGE, '[1]')
  t.same(loadReadMarks(store), {})
})

t.test('NIP-17 wrapping: one wrap for the recipient, one for the sender; only those two can open it', async t => {
  const alice = generateSecretKey()
  const bob = generateSecretKey()
  const eve = generateSecretKey()
  const alicePub = getPublicKey(alice)
  const bobPub = getPublicKey(bob)
  const now = Math.floor(Date.now() / 1000)
  const text = 'meet at the blue tent 🎪'
  const { rumor, wraps } = wrapMessage(alice, bobPub, text, now, now)
  t.equal(wraps.length, 2)
  t.same(wraps.map(w => w.tags), [[['p', bobPub]], [['p', alicePub]]], 'the recipient\'s copy first, then the sender\'s')
  for (const w of wraps) {
    t.equal(w.kind, 1059)
    t.ok(verifyEvent({ ...w }), 'a valid signed event')
    t.not(w.pubkey, alicePub, 'signed by a throwaway key, not the sender')
    t.notOk(w.content.includes(text) || w.content.includes('blue'), 'the text is not readable in the wrap')
    t.ok(w.created_at <= now && w.created_at > now - TWO_DAYS - 1, 'dated randomly up to two days back, never ahead')
  }
  t.not(wraps[0]?.pubkey, wraps[1]?.pubkey, 'a new throwaway key per wrap')
  t.equal(rumor.kind, 14)
  t.same(rumor.tags, [['p', bobPub]])
  t.equal(rumor.created_at, now)
  t.equal(rumor.id, getEventHash(rumor))

  t.same(openWrap(wraps[0]!, bob), rumor, 'Bob reads his copy')
  t.same(openWrap(wraps[1]!, alice), rumor, 'Alice reads her own copy (another device, a restored key)')
  t.equal(openWrap(wraps[0]!, alice), null, 'a wrap for someone else is ignored, not thrown')
  t.equal(openWrap(wraps[0]!, eve), null)
  t.equal(openWrap(wraps[1]!, eve), null)
  t.equal(openWrap({ ...wraps[0]!, content: 'garbage' }, bob), null, 'damaged content')
  t.equal(openWrap({ ...wraps[0]!, content: wraps[0]!.content.slice(0, -8) + 'AAAAAAA=' }, bob), null, 'a changed byte fails the MAC')
  t.equal(openWrap({ ...wraps[0]!, kind: 1 }, bob), null, 'not a gift wrap')

  const keys = new Map<string, Uint8Array>()
  t.same(openWrap(wraps[0]!, bob, keys), rumor, 'with a kept conversation key')
  t.same([...keys.keys()], [alicePub], 'kept by sender')
  t.same(openWrap(wrapMessage(alice, bobPub, 'again', now, now).wraps[0]!, bob, keys)?.content, 'again', 'and used for the next message')
  t.equal(openWrap(wraps[0]!, eve, new Map()), null, 'still nothing for another key')

  const self = wrapMessage(alice, alicePub, 'note to self', now, now)
  t.equal(self.wraps.length, 1, 'a note to self is wrapped once')
  t.same(openWrap(self.wraps[0]!, alice)?.content, 'note to self')

  t.throws(() => wrapMessage(alice, bobPub, '', now, now), /empty/)
  t.throws(() => wrapMessage(alice, bobPub, 'x'.repeat(MAX_MESSAGE + 1), now, now), /too long/)
  const longest = wrapMessage(alice, bobPub, '😀'.repeat(MAX_MESSAGE / 2), now, now)
  t.ok(longest.wraps.every(w => w.content.length <= 32 * 1024), 'the longest message fits the node\'s content limit')
})

t.test('a group message: one wrap per participant plus one for the sender; each opens to the same room', async t => {
  const [alice, bob, cy, eve] = [generateSecretKey(), generateSecretKey(), generateSecretKey(), generateSecretKey()]
  const [alicePub, bobPub, cyPub] = [alice, bob, cy].map(k => getPublicKey(k)) as [string, string, string]
  const now = Math.floor(Date.now() / 1000)
  const { rumor, wraps } = wrapMessage(alice, [bobPub, cyPub], 'group plan', now, now)
  t.same(wraps.map(w => w.tags), [[['p', bobPub]], [['p', cyPub]], [['p', alicePub]]], 'each recipient, then the sender')
  t.same(rumor.tags, [['p', bobPub], ['p', cyPub]])
  const room = [bobPub, cyPub].sort().join(',')
  t.equal(roomOf(openWrap(wraps[2]!, alice)!, alicePub), room, 'the sender\'s room')
  t.equal(roomOf(openWrap(wraps[0]!, bob)!, bobPub), [alicePub, cyPub].sort().join(','), 'Bob\'s room: Alice and Cy')
  t.equal(roomOf(openWrap(wraps[1]!, cy)!, cyPub), [alicePub, bobPub].sort().join(','), 'Cy\'s room: Alice and Bob')
  t.ok(wraps.every(w => openWrap(w, eve) === null), 'nobody else opens any')
  t.throws(() => wrapMessage(alice, [], 'x', now, now), /1 to/)
  t.throws(() => wrapMessage(alice, [alicePub, bobPub], 'x', now, now), /not yourself/, 'a room key with my own key in it is not a room')
  t.throws(() => wrapMessage(alice, Array.from({ length: MAX_ROOM + 1 }, () => getPublicKey(generateSecretKey())), 'x', now, now), /1 to/, 'beyond the cap')
})

t.test('forged and odd wraps are ignored: a seal signed by someone else than the message\'s author, a wrong inner kind', async t => {
  const alice = generateSecretKey()
  const bob = generateSecretKey()
  const mallory = generateSecretKey()
  const bobPub = getPublicKey(bob)
  const now = Math.floor(Date.now() / 1000)
  // Mallory puts a rumor claiming to be from Alice in a seal signed with her own key
  const fake = chatRumor(alice, bobPub, 'send me your key', now)
  const forged = giftWrap(seal(fake, mallory, bobPub, now), bobPub, now)
  t.equal(openWrap(forged, bob), null, 'the seal\'s signer must be the rumor\'s author')
  // a seal whose signature does not match
  const s = seal(chatRumor(alice, bobPub, 'hi', now), alice, bobPub, now)
  t.equal(openWrap(giftWrap({ ...s, sig: '0'.repeat(128) }, bobPub, now), bob), null, 'a bad seal signature')
  // a rumor whose id is not its hash
  const badId = { ...chatRumor(alice, bobPub, 'hi', now), id: 'f'.repeat(64) }
  t.equal(openWrap(giftWrap(seal(badId, alice, bobPub, now), bobPub, now), bob), null, 'a rumor id that is not its hash')
  // a kind 1 rumor
  const k1 = chatRumor(alice, bobPub, 'hi', now)
  const notChat = { ...k1, kind: 1, id: getEventHash({ ...k1, kind: 1 }) }
  t.equal(openWrap(giftWrap(seal(notChat, alice, bobPub, now), bobPub, now), bob), null, 'only kind 14 is a chat message')
  // a wrap around something that is not a seal
  const throwaway = generateSecretKey()
  const junk = signEvent({ kind: 1059, created_at: now, tags: [['p', bobPub]], content: encrypt('{"kind":1}', getConversationKey(throwaway, bobPub)) }, throwaway)
  t.equal(openWrap(junk, bob), null, 'the inner event must be a kind 13 seal')
})

t.test('interoperable with nostr-tools\' own NIP-17: each side reads the other\'s wraps', async t => {
  const alice = generateSecretKey()
  const bob = generateSecretKey()
  const now = Math.floor(Date.now() / 1000)
  const ours = wrapMessage(alice, getPublicKey(bob), 'from Outpost', now, now)
  const theirs = nip17.unwrapEvent(ours.wraps[0]!, bob)
  t.equal(theirs.content, 'from Outpost')
  t.equal(theirs.pubkey, getPublicKey(alice))
  t.equal(theirs.id, ours.rumor.id)
  const wrap = nip17.wrapEvent(bob, { publicKey: getPublicKey(alice) }, 'from another client')
  const read = openWrap(wrap, alice)
  t.equal(read?.content, 'from another client')
  t.equal(read?.pubkey, getPublicKey(bob))
  t.equal(read !== null ? peerOf(read, getPublicKey(alice)) : null, getPublicKey(bob))
})
