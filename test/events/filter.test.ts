import t from 'tap'
import {
  compileFilter, compileFilters, filterError, matchAny, matchFilter, normalizeFilter
} from '../../node/src/events/filter.js'
import type { Filter, NostrEvent } from '../../node/src/events/types.js'

const hex = (c: string): string => c.repeat(64)
const ev = (over: Partial<NostrEvent> = {}): NostrEvent => ({
  id: hex('a'),
  pubkey: hex('b'),
  created_at: 1000,
  kind: 1,
  tags: [['t', 'camping'], ['e', hex('c'), 'wss://x'], ['p']],
  content: 'hi',
  sig: 'f'.repeat(128),
  ...over
})

/** matchFilter and the compiled matcher must always agree. */
function matches (f: Filter, e: NostrEvent): boolean {
  const a = matchFilter(f, e)
  const b = compileFilter(f)(e)
  if (a !== b) throw new Error(`matchFilter and compileFilter disagree on ${JSON.stringify(f)}`)
  return a
}

t.test('valid filters have no error', async t => {
  const valid: unknown[] = [
    {},
    { ids: [hex('a')] },
    { authors: [hex('0'), hex('1')] },
    { kinds: [0, 1, 65535] },
    { since: 0, until: 2 ** 40, limit: 0 },
    { '#t': ['camping'], '#e': [hex('c')], '#A': ['x'] },
    { ids: [], authors: [], kinds: [], '#t': [] }
  ]
  for (const f of valid) t.equal(filterError(f), null, JSON.stringify(f))
})

t.test('invalid filters are refused with a clear reason', async t => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /JSON object/],
    [[], /JSON object/],
    ['x', /JSON object/],
    [{ ids: hex('a') }, /ids must be an array/],
    [{ ids: ['abc'] }, /ids must contain 64 lowercase hex/],
    [{ ids: [hex('A')] }, /ids must contain 64 lowercase hex/],
    [{ ids: [hex('a') + 'a'] }, /ids/],
    [{ authors: [1] }, /authors must contain/],
    [{ kinds: [1.5] }, /kinds must contain integers/],
    [{ kinds: [-1] }, /kinds/],
    [{ kinds: [65536] }, /kinds/],
    [{ kinds: ['1'] }, /kinds/],
    [{ kinds: 1 }, /kinds must be an array/],
    [{ since: -1 }, /since must be a non-negative integer/],
    [{ until: 1.5 }, /until must be/],
    [{ limit: '10' }, /limit must be/],
    [{ limit: Number.MAX_VALUE }, /limit must be/],
    [{ '#t': 'camping' }, /#t must be an array/],
    [{ '#t': [1] }, /#t must contain strings/],
    [{ '#t': ['x'.repeat(1025)] }, /at most 1024/],
    [{ '#tt': ['x'] }, /unknown filter key "#tt"/],
    [{ '#': ['x'] }, /unknown filter key/],
    [{ search: 'x' }, /unknown filter key "search"/],
    [{ ids: Array.from({ length: 1001 }, () => hex('a')) }, /more than 1000/],
    [{ kinds: Array.from({ length: 1001 }, () => 1) }, /more than 1000/],
    [{ '#p': Array.from({ length: 1001 }, () => 'x') }, /more than 1000/]
  ]
  for (const [f, re] of cases) t.match(filterError(f), re, JSON.stringify(f).slice(0, 60))
})

t.test('caps can be set', async t => {
  t.match(filterError({ kinds: [1, 2, 3] }, { values: 2, tagValueLength: 10 }), /more than 2/)
  t.match(filterError({ '#t': ['x'.repeat(11)] }, { values: 2, tagValueLength: 10 }), /at most 10/)
})

t.test('normalizeFilter defaults and clamps limit, and copies', async t => {
  const limits = { maxLimit: 500, defaultLimit: 100 }
  const f: Filter = { kinds: [1] }
  t.same(normalizeFilter(f, limits), { kinds: [1], limit: 100 })
  t.equal(f.limit, undefined, 'the input is not changed')
  t.equal(normalizeFilter({ limit: 10_000 }, limits).limit, 500)
  t.equal(normalizeFilter({ limit: 20 }, limits).limit, 20)
  t.equal(normalizeFilter({ limit: 0 }, limits).limit, 0)
})

t.test('every field narrows the match', async t => {
  const e = ev()
  t.ok(matches({}, e), 'the empty filter matches everything')
  t.ok(matches({ ids: [hex('a')] }, e))
  t.notOk(matches({ ids: [hex('d')] }, e))
  t.notOk(matches({ ids: [] }, e), 'an empty list matches nothing')
  t.ok(matches({ authors: [hex('d'), hex('b')] }, e))
  t.notOk(matches({ authors: [hex('d')] }, e))
  t.ok(matches({ kinds: [0, 1] }, e))
  t.notOk(matches({ kinds: [7] }, e))
  t.ok(matches({ since: 1000 }, e), 'since is inclusive')
  t.notOk(matches({ since: 1001 }, e))
  t.ok(matches({ until: 1000 }, e), 'until is inclusive')
  t.notOk(matches({ until: 999 }, e))
  t.notOk(matches({ since: 1001, until: 999 }, e))
  t.ok(matches({ limit: 0 }, e), 'limit does not affect matching')
  t.ok(matches({ ids: [hex('a')], authors: [hex('b')], kinds: [1], since: 1000, until: 1000, '#t': ['camping'] }, e))
  t.notOk(matches({ ids: [hex('a')], kinds: [2] }, e), 'all fields must match')
})

t.test('tag filters match on the tag name and its first value', async t => {
  const e = ev()
  t.ok(matches({ '#t': ['music', 'camping'] }, e))
  t.notOk(matches({ '#t': ['Camping'] }, e), 'values are exact')
  t.ok(matches({ '#e': [hex('c')] }, e))
  t.notOk(matches({ '#e': ['wss://x'] }, e), 'only the value at index 1 counts')
  t.notOk(matches({ '#p': [''] }, e), 'a tag without a value never matches')
  t.notOk(matches({ '#T': ['camping'] }, e), 'tag names are case-sensitive')
  t.notOk(matches({ '#d': ['x'] }, e), 'a missing tag does not match')
  t.notOk(matches({ '#t': [] }, e))
  t.ok(matches({ '#t': ['camping'], '#e': [hex('c')] }, e), 'several tag filters are ANDed')
  t.notOk(matches({ '#t': ['camping'], '#e': [hex('d')] }, e))
  t.ok(matches({ '#t': ['camping'] }, ev({ tags: [['t', 'x'], ['t', 'camping']] })), 'any tag of that name may match')
})

t.test('long lists match the same as short ones', async t => {
  const many = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(64, '0'))
  const e = ev({ pubkey: many[150] as string })
  t.ok(matches({ authors: many }, e))
  t.notOk(matches({ authors: many.slice(0, 100) }, e))
  t.ok(matches({ kinds: Array.from({ length: 100 }, (_, i) => i) }, e))
  t.ok(matches({ '#t': [...many, 'camping'] }, e))
})

t.test('matchAny ORs filters', async t => {
  const e = ev()
  t.ok(matchAny([{ kinds: [7] }, { authors: [hex('b')] }], e))
  t.notOk(matchAny([{ kinds: [7] }, { authors: [hex('d')] }], e))
  t.notOk(matchAny([], e))
  t.ok(compileFilters([{ kinds: [7] }, { '#t': ['camping'] }])(e))
  t.notOk(compileFilters([])(e))
})
