/**
 * The bearer tokens `troupe serve` accepts, from one environment variable (`TROUPE_TOKEN` unless `--token-env` names
 * another). The variable holds one token, or several named ones as `NAME=TOKEN` separated by commas
 * (`ana=…,ci=…`), so that approvals record who decided; a lone token is named after the variable.
 *
 * There is no default token: a missing, empty or short token is a `TokenConfigError` and the server does not start.
 * Tokens are compared in constant time (SHA-256 digests of both sides, `timingSafeEqual`), so neither the length
 * nor a shared prefix of a guess can be timed.
 *
 * @example
 * ```ts
 * const tokens = yield* Tokens.fromEnvironment("TROUPE_TOKEN", process.env)
 * const caller = Tokens.check(tokens, request.headers.authorization) // "TROUPE_TOKEN", or undefined
 * ```
 */
import * as NodeCrypto from "node:crypto"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** The shortest token accepted: a guessable token is as good as none. */
export const minimumLength = 16

/** The token variable is missing or unusable; the message names the variable, never its value. */
export class TokenConfigError extends Schema.TaggedError<TokenConfigError>()("TokenConfigError", {
  variable: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.variable}: ${this.reason}`
  }
}

/** One accepted token: who holds it, and the digest it is compared by. */
interface Token {
  readonly name: string
  readonly digest: Buffer
}

/** The accepted tokens. */
export interface Tokens {
  readonly tokens: ReadonlyArray<Token>
}

const digest = (text: string): Buffer => NodeCrypto.createHash("sha256").update(text, "utf8").digest()

const namePattern = /^[A-Za-z0-9_.@-]{1,64}$/

/**
 * Reads the tokens from `environment[variable]`: one token, or `NAME=TOKEN` pairs separated by commas. Fails with
 * `TokenConfigError` when the variable is unset or empty, or a token is shorter than {@link minimumLength}
 * characters, holds whitespace, or two share a name.
 */
export const fromEnvironment = (
  variable: string,
  environment: Readonly<Record<string, string | undefined>>
): Effect.Effect<Tokens, TokenConfigError> =>
  Effect.suspend(() => {
    const fail = (reason: string) => Effect.fail(new TokenConfigError({ variable, reason }))
    const value = environment[variable]?.trim() ?? ""
    if (value === "") {
      return fail("no token is set; troupe serve has no default token and refuses anonymous requests")
    }
    const named = value.includes("=")
    const entries = named
      ? value.split(",").map((entry) => {
          const at = entry.indexOf("=")
          return { name: entry.slice(0, at).trim(), token: entry.slice(at + 1).trim() }
        })
      : [{ name: variable, token: value }]
    const tokens: Array<Token> = []
    for (const [index, entry] of entries.entries()) {
      if (named && !namePattern.test(entry.name)) {
        return fail(`entry ${index + 1} needs a name of letters, digits, '.', '_', '@' or '-' before '='`)
      }
      if (/\s/.test(entry.token)) return fail(`the token of ${entry.name} holds whitespace`)
      if (entry.token.length < minimumLength) {
        return fail(`the token of ${entry.name} is shorter than ${minimumLength} characters`)
      }
      if (tokens.some((t) => t.name === entry.name)) return fail(`two tokens are named ${entry.name}`)
      tokens.push({ name: entry.name, digest: digest(entry.token) })
    }
    return Effect.succeed({ tokens })
  })

/**
 * The name of the token a request presents, or `undefined`. Every accepted token is compared, whatever matched
 * before, so the time taken does not say which one (or how much of one) was right.
 */
export const identify = (tokens: Tokens, presented: string): string | undefined => {
  const candidate = digest(presented)
  let found: string | undefined
  for (const token of tokens.tokens) {
    if (NodeCrypto.timingSafeEqual(candidate, token.digest) && found === undefined) found = token.name
  }
  return found
}

/** The token of an `Authorization` header value (`Bearer TOKEN`, the scheme in any case), or `undefined`. */
export const bearerOf = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  const match = /^bearer[ ]+(\S+)[ ]*$/i.exec(header)
  return match?.[1]
}

/** Who holds the bearer token of an `Authorization` header, or `undefined` when it is missing or not accepted. */
export const check = (tokens: Tokens, header: string | undefined): string | undefined => {
  const presented = bearerOf(header)
  return presented === undefined ? undefined : identify(tokens, presented)
}
