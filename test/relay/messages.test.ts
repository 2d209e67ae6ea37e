import t from 'tap'
import { msg, parseClientMessage, sniffEventId, subIdError } from '../../node/src/relay/messages.js'

t.test('client messages are parsed by verb and arity', async t => {
  t.same(parseClientMessage('["EVENT",{"id":"x"}]'), { type: 'EVENT', event: { id: 'x' } })
  t.same(parseClientMessage('["REQ","s",{},{"kinds":[1]}]'), { type: 'REQ', subId: 's', filters: [{}, { kinds: [1] }] })
  t.same(parseClientMessage('["COUNT","s",{}]'), { type: 'COUNT', subId: 's', filters: [{}] })
  t.same(parseClientMessage('["CLOSE","s"]'), { type: 'CLOSE', subId: 's' })
  t.same(parseClientMessage('["AUTH",{"kind":22242}]'), { type: 'AUTH', event: { kind: 22242 } })
  const errors: Array<[string, RegExp]> = [
    ['', /parse JSON/],
    ['nul', /parse JSON/],
    ['"EVENT"', /non-empty JSON array/],
    ['[]', /non-empty JSON array/],
    ['[null]', /must be a string/],
    ['["EVENT",{},{}]', /exactly one event/],
    ['["REQ","s"]', /at least one filter/],
    ['["CLOSE","a","b"]', /exactly one subscription id/],
    ['["AUTH",{},{}]', /AUTH takes exactly one event/],
    ['["AUTH"]', /AUTH takes exactly one event/],
    ['["HELLO",{}]', /unknown message type "HELLO"/],
    [`["${'V'.repeat(100)}"]`, /unknown message type "V{16}"$/]
  ]
  for (const [text, re] of errors) {
    const m = parseClientMessage(text)
    t.equal(m.type, 'error', text.slice(0, 20))
    if (m.type === 'error') t.match(m.reason, re)
  }
})

t.test('subscription ids are strings of 1-64 characters', async t => {
  t.equal(subIdError('a'), null)
  t.equal(subIdError('x'.repeat(64)), null)
  t.match(subIdError(''), /1-64/)
  t.match(subIdError('x'.repeat(65)), /1-64/)
  t.match(subIdError(1), /1-64/)
})

t.test('the id of an unparseable EVENT frame is found only where it is the event key', async t => {
  const id = 'ab'.repeat(32)
  t.equal(sniffEventId(Buffer.from(`["EVENT",{"content":"x","id":"${id}","sig":"…`)), id)
  t.equal(sniffEventId(Buffer.from(` [ "EVENT" , { "id" : "${id}"`)), id)
  t.equal(sniffEventId(Buffer.from(JSON.stringify(['EVENT', { content: `"id":"${id}"` }]))), '', 'not inside a string')
  t.equal(sniffEventId(Buffer.from(`["REQ",{"id":"${id}"}]`)), '', 'only EVENT frames')
  t.equal(sniffEventId(Buffer.from('["EVENT",{"id":"short"}]')), '')
})

t.test('relay messages serialize as NIP-01 arrays', async t => {
  const e = { id: 'i', kind: 1 }
  t.same(JSON.parse(msg.event('s"1', JSON.stringify(e))), ['EVENT', 's"1', e])
  t.same(JSON.parse(msg.ok('i', false, 'invalid: x')), ['OK', 'i', false, 'invalid: x'])
  t.same(JSON.parse(msg.eose('s')), ['EOSE', 's'])
  t.same(JSON.parse(msg.closed('s', 'error: x')), ['CLOSED', 's', 'error: x'])
  t.same(JSON.parse(msg.notice('hi')), ['NOTICE', 'hi'])
})
