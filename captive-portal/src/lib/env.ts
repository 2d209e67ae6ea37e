import { parseRoom } from './types.js'
/** Where the app runs: a captive-portal sheet (no storage) or a real browser. */

export interface CaptiveVerdict { captive: boolean, reason: 'no-storage' | 'ios-sheet' | 'android-sign-in' | '' }

/**
 * The iOS Captive Network Assistant and Android's sign-in screen throw storage away when they
 * close: a key made there would be lost. They look like: storage that fails, an iOS WebKit user
 * agent without the "Safari/" token, an Android WebView ("; wv)").
 */
export function detectCaptive (ua: string, storageWorks: boolean): CaptiveVerdict {
  if (!storageWorks) return { captive: true, reason: 'no-storage' }
  if (/\b(iPhone|iPad|iPod)\b/.test(ua) && /AppleWebKit/.test(ua) && !/Safari\//.test(ua) && !/CriOS|FxiOS|EdgiOS/.test(ua)) return { captive: true, reason: 'ios-sheet' }
  if (/Android/.test(ua) && /; wv\)/.test(ua)) return { captive: true, reason: 'android-sign-in' }
  return { captive: false, reason: '' }
}

export type Route =
  | { name: 'here' }
  | { name: 'following' }
  | { name: 'tag', tag: string }
  | { name: 'thread', id: string }
  | { name: 'profile', pubkey: string }
  | { name: 'people', query: string }
  | { name: 'me' }
  | { name: 'messages' }
  | { name: 'chat', room: string }
  | { name: 'activity' }

/** Hash routes (#/tag/music, #/p/<hex>, #/e/<hex>): deep links work without server help. */
export function parseRoute (hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(p => { try { return decodeURIComponent(p) } catch { return '' } })
  const [head, arg = ''] = parts
  switch (head) {
    case 'following': return { name: 'following' }
    case 'tag': return arg !== '' ? { name: 'tag', tag: arg.toLowerCase() } : { name: 'here' }
    case 'e': return /^[0-9a-f]{64}$/.test(arg) ? { name: 'thread', id: arg } : { name: 'here' }
    case 'p': return /^[0-9a-f]{64}$/.test(arg) ? { name: 'profile', pubkey: arg } : { name: 'here' }
    case 'people': return { name: 'people', query: arg }
    case 'me': return { name: 'me' }
    case 'messages': return { name: 'messages' }
    case 'activity': return { name: 'activity' }
    case 'dm': { const room = parseRoom(arg); return room !== null ? { name: 'chat', room } : { name: 'messages' } }
    default: return { name: 'here' }
  }
}

export function href (r: Route): string {
  switch (r.name) {
    case 'here': return '#/'
    case 'following': return '#/following'
    case 'tag': return '#/tag/' + encodeURIComponent(r.tag)
    case 'thread': return '#/e/' + r.id
    case 'profile': return '#/p/' + r.pubkey
    case 'people': return '#/people' + (r.query !== '' ? '/' + encodeURIComponent(r.query) : '')
    case 'me': return '#/me'
    case 'messages': return '#/messages'
    case 'chat': return '#/dm/' + r.room
    case 'activity': return '#/activity'
  }
}
