/**
 * Durations as people write them in a spec: `500ms`, `30s`, `2m`, `1h`, `1d` (a whole or decimal number and a
 * unit, no space), decoded to effect's `Duration`.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"

const pattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/u

const unitMillis = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Parses `30s`-style text to a `Duration`, or `undefined` when the text is not one. */
export const parse = (text: string): Duration.Duration | undefined => {
  const match = pattern.exec(text)
  if (match === null) return undefined
  return Duration.millis(Number(match[1]) * unitMillis[match[2] as keyof typeof unitMillis])
}

/** Formats a `Duration` in the largest unit that divides it exactly (`90000 millis` → `90s`, `2h` stays `2h`). */
export const format = (duration: Duration.Duration): string => {
  const millis = Duration.toMillis(duration)
  for (const unit of ["d", "h", "m", "s"] as const) {
    if (millis >= unitMillis[unit] && millis % unitMillis[unit] === 0) return `${millis / unitMillis[unit]}${unit}`
  }
  return `${millis}ms`
}

/** What a duration looks like, as problems name it: `Expected a duration like ..., got 10`. */
export const expected = "a duration like 500ms, 30s, 2m or 1h"

/**
 * The written side of a duration field. `expected` sits on the string itself (before the check) so that a value of
 * the wrong type (`within: 10`) is reported with the duration format rather than as "Expected string".
 */
const text = (annotations: Schema.Annotations.Filter) =>
  Schema.String.annotate({ expected })
    .check(Schema.isPattern(pattern, { expected }))
    .annotate({ examples: ["500ms", "30s", "2m", "1h"], ...annotations })

/**
 * A duration field: a `30s`-style string on the YAML side, a `Duration` once decoded.
 *
 * `description` goes on the string side so that it reaches the generated JSON Schema.
 */
export const field = (description: string) =>
  text({ description }).pipe(
    Schema.decodeTo(Schema.Duration, {
      decode: SchemaGetter.transform((text: string) => parse(text) ?? Duration.zero),
      encode: SchemaGetter.transform(format)
    })
  )

/** A duration field with a default, given in the same `30s` form (it is also shown in the JSON Schema). */
export const withDefault = (description: string, defaultValue: string) =>
  text({ description: `${description} Default: ${defaultValue}.`, default: defaultValue }).pipe(
    Schema.decodeTo(Schema.Duration, {
      decode: SchemaGetter.transform((text: string) => parse(text) ?? Duration.zero),
      encode: SchemaGetter.transform(format)
    }),
    Schema.withDecodingDefaultTypeKey(Effect.sync(() => parse(defaultValue) ?? Duration.zero))
  )
