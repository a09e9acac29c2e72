/**
 * Time limits as people write them, apart from `ProviderConfig` so that a command line can check one without loading
 * the adapters (`pnpm bench cli`).
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/**
 * A time limit as people write it: `90s`, `2m`, `1h`, `500ms`, or Effect's `"2 minutes"`; `undefined` when it is
 * not a positive duration.
 */
export const parseDuration = (text: string): Duration.Duration | undefined => {
  const short = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim())
  const duration = short
    ? Option.some(
        Duration.millis(
          Number(short[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[short[2] as "ms" | "s" | "m" | "h"]
        )
      )
    : Duration.fromInput(text.trim() as Duration.Input)
  return Option.isSome(duration) && Duration.toMillis(duration.value) > 0 ? duration.value : undefined
}
