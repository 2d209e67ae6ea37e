import { escapeHtml } from '../mirror/html.js'
import { duration } from './html.js'

const SKEW_NOTICE_SECONDS = 5 * 60

/**
 * The dashboard's notice about this node's clock (from /api/health `clock`), or null when there is
 * nothing to say: the clock looks behind its peers, or replicated posts are dated ahead of it, or
 * it runs on its saved floor or a peer's time instead of the system clock.
 */
export function clockNotice (v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return null
  const c = v as { now?: unknown, offsetSeconds?: unknown, source?: unknown, behindPeersBy?: unknown, behindPhonesBy?: unknown, phones?: unknown, eventsAhead?: unknown }
  const lines: string[] = []
  if (typeof c.behindPeersBy === 'number' && c.behindPeersBy > SKEW_NOTICE_SECONDS) {
    lines.push(`This node's clock looks ${duration(c.behindPeersBy)} behind its sync peers. Set the time (or connect an uplink, or a peer that has one): posts written here are dated by it.`)
  }
  if (typeof c.behindPhonesBy === 'number' && c.behindPhonesBy > SKEW_NOTICE_SECONDS && typeof c.phones === 'number') {
    lines.push(`The clocks of ${c.phones === 1 ? 'a phone' : `${c.phones} phones`} seen in the last hour say this node's clock is ${duration(c.behindPhonesBy)} behind.`)
  }
  if (typeof c.eventsAhead === 'number' && c.eventsAhead > 0) {
    lines.push(`${c.eventsAhead.toLocaleString('en-US')} replicated posts are dated ahead of this node's clock (kept and shown all the same).`)
  }
  if ((c.source === 'floor' || c.source === 'peers') && typeof c.offsetSeconds === 'number') {
    const from = c.source === 'floor' ? 'the last time it knew (saved before it stopped)' : 'the time its sync peers gave'
    lines.push(`The system clock is ${duration(c.offsetSeconds)} behind: this node uses ${from} instead.`)
  }
  if (lines.length === 0) return null
  return `<p class="error" role="status" id="clock-notice">${lines.map(escapeHtml).join('<br>')}</p>`
}
