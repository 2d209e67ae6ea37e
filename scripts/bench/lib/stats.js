// Percentiles and number formatting.

/** Nearest-rank percentile of an unsorted sample (p in 0..100). */
export function percentile (values, p) {
  if (values.length === 0) return NaN
  const s = Float64Array.from(values).sort()
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))
  return s[i]
}

export function summarize (values) {
  const mean = values.reduce((a, b) => a + b, 0) / (values.length || 1)
  return { n: values.length, p50: percentile(values, 50), p99: percentile(values, 99), mean, max: Math.max(...values) }
}

/** 12345.6 -> "12,346"; 1.234 -> "1.23"; 0.01234 -> "0.0123". */
export function fmt (v) {
  if (typeof v !== 'number') return v === undefined || v === null ? '' : String(v)
  if (!Number.isFinite(v)) return '–'
  const a = Math.abs(v)
  if (a >= 100) return Math.round(v).toLocaleString('en-US')
  if (a >= 1) return v.toFixed(2)
  if (a === 0) return '0'
  return v.toPrecision(3)
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0) ? a / b : NaN

/** "0.83x" */
export const fmtRatio = r => Number.isFinite(r) ? `${r.toFixed(2)}x` : ''
