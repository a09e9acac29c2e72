/**
 * Which strings are secrets, and the redactor that removes them from everything the audit trail writes.
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"

/** Values shorter than this are never redacted: `PASS=test` would otherwise turn every "test" into a marker. */
export const minSecretLength = 8

// Words of a variable name (split at anything but letters and digits) that make its value a secret.
const secretWords = new Set([
  "KEY",
  "APIKEY",
  "TOKEN",
  "SECRET",
  "PASSWORD",
  "PASSWD",
  "PASS",
  "PASSPHRASE",
  "CREDENTIAL",
  "CREDENTIALS"
])

/**
 * The naming rule: a variable holds a secret when a word of its name (split at `_` and other non-alphanumerics,
 * case-insensitive) is KEY, APIKEY, TOKEN, SECRET, PASSWORD, PASSWD, PASS, PASSPHRASE, CREDENTIAL or CREDENTIALS,
 * or when its name contains PASSWORD or SECRET anywhere (`DBPASSWORD`). `OPENAI_API_KEY`, `GH_TOKEN` and
 * `SSH_KEY_PATH` match; `KEYBOARD` and `TOKENIZERS_PARALLELISM` do not.
 */
export const isSecretName = (name: string): boolean => {
  const upper = name.toUpperCase()
  return (
    upper.includes("PASSWORD") || upper.includes("SECRET") || upper.split(/[^A-Z0-9]+/).some((w) => secretWords.has(w))
  )
}

/** A secret value, and the name shown in its place (`[redacted:NAME]`). */
export interface Secret {
  readonly name: string
  readonly value: string
}

/** The secrets of an environment: the values of the variables named like secrets, at least 8 characters long. */
export const secretsOf = (environment: Readonly<Record<string, string | undefined>>): ReadonlyArray<Secret> =>
  Object.entries(environment).flatMap(([name, value]) =>
    value !== undefined && value.length >= minSecretLength && isSecretName(name) ? [{ name, value }] : []
  )

/** A pattern of a well-known credential shape, redacted wherever it appears even if no variable holds it. */
export interface SecretPattern {
  readonly name: string
  /** Must be global; when it has a first capture group, that group is kept (a prefix that is not the secret). */
  readonly pattern: RegExp
  /**
   * Substrings one of which every match contains: the pattern only runs on strings holding one. Running ten
   * regular expressions over every string cost about 45 µs for a small tool call; one scan for the hints, a few.
   */
  readonly hints?: ReadonlyArray<string>
}

// Quantifiers are bounded so that a hostile string (a megabyte of "sk-sk-sk-...") costs linear time.
/**
 * Credential shapes redacted by default: OpenAI-style `sk-` keys (Anthropic, OpenRouter, DeepSeek), Google `AIza`
 * keys, GitHub, Slack, Groq and xAI tokens, AWS access key ids, bearer tokens, the password of a URL
 * (`scheme://user:PASSWORD@host`) and PEM private keys.
 */
export const knownPatterns: ReadonlyArray<SecretPattern> = [
  {
    name: "sk-key",
    pattern: /(?<![A-Za-z0-9])sk-(?=[A-Za-z0-9_-]{0,200}[0-9])[A-Za-z0-9_-]{20,400}/g,
    hints: ["sk-"]
  },
  { name: "google-key", pattern: /AIza[0-9A-Za-z_-]{35}/g, hints: ["AIza"] },
  {
    name: "github-token",
    pattern: /(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})/g,
    hints: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]
  },
  { name: "slack-token", pattern: /xox[abprs]-[A-Za-z0-9-]{10,255}/g, hints: ["xox"] },
  { name: "groq-key", pattern: /gsk_[A-Za-z0-9]{20,255}/g, hints: ["gsk_"] },
  { name: "xai-key", pattern: /xai-[A-Za-z0-9]{20,255}/g, hints: ["xai-"] },
  { name: "aws-key-id", pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])/g, hints: ["AKIA", "ASIA"] },
  { name: "bearer-token", pattern: /(Bearer\s{1,16})[A-Za-z0-9._~+/-]{16,4096}=*/g, hints: ["Bearer"] },
  { name: "url-password", pattern: /(:\/\/[^\s/:@]{0,256}:)[^\s/@]{1,256}(?=@)/g, hints: ["://"] },
  {
    name: "private-key",
    pattern: /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[\s\S]{0,16384}?-----END [A-Z ]{0,40}PRIVATE KEY-----/g,
    hints: ["PRIVATE KEY-----"]
  }
]

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * A function that replaces every occurrence of every secret value with `[redacted:NAME]` and every match of the
 * patterns with `[redacted:PATTERN]`. Values are matched in one pass, longest first, so a secret that contains
 * another is replaced whole and a marker is never redacted again.
 */
export const redactor = (
  secrets: ReadonlyArray<Secret>,
  patterns: ReadonlyArray<SecretPattern> = knownPatterns
): ((text: string) => string) => {
  const usable = secrets.filter((s) => s.value.length >= minSecretLength)
  const byValue = new Map<string, string>()
  for (const s of [...usable].sort((a, b) => b.value.length - a.value.length)) {
    if (!byValue.has(s.value)) byValue.set(s.value, s.name)
  }
  const values =
    byValue.size === 0
      ? undefined
      : new RegExp(Array.from(byValue.keys(), (value) => escapeRegExp(value)).join("|"), "g")
  const hinted = patterns.filter((p) => p.hints !== undefined && p.hints.length > 0)
  const unhinted = patterns.filter((p) => !hinted.includes(p))
  // One scan for every hint at once: most strings hold none, and per-hint `includes` calls cost three times more.
  const trigger =
    hinted.length === 0
      ? undefined
      : new RegExp(
          hinted
            .flatMap((p) => p.hints!)
            .map(escapeRegExp)
            .join("|")
        )
  const replace = (text: string, { name, pattern }: SecretPattern) =>
    text.replace(pattern, (_found, prefix: unknown) =>
      typeof prefix === "string" ? `${prefix}[redacted:${name}]` : `[redacted:${name}]`
    )
  return (text) => {
    if (text.length < minSecretLength && unhinted.length === 0) return text
    let out = values === undefined ? text : text.replace(values, (found) => `[redacted:${byValue.get(found)}]`)
    if (trigger?.test(out)) {
      for (const p of hinted) if (p.hints!.some((hint) => out.includes(hint))) out = replace(out, p)
    }
    for (const p of unhinted) out = replace(out, p)
    return out
  }
}

/**
 * Every variable of the current `ConfigProvider` (the process environment unless a test provides another), read
 * by walking its tree: an environment provider splits names at `_`, so `OPENAI_API_KEY` is the path
 * `OPENAI / API / KEY`.
 */
export const environmentFromConfig: Effect.Effect<Record<string, string>, ConfigProvider.SourceError> = Effect.gen(
  function* () {
    const provider = yield* ConfigProvider.ConfigProvider
    const out: Record<string, string> = {}
    const walk = (path: ReadonlyArray<string | number>): Effect.Effect<void, ConfigProvider.SourceError> =>
      Effect.gen(function* () {
        const node = yield* provider.load(path)
        if (node === undefined) return
        if (node.value !== undefined && path.length > 0) out[path.join("_")] = node.value
        // Env names rarely have more than a handful of words; the bound keeps a strange provider finite.
        if (path.length >= 32) return
        if (node._tag === "Record") for (const key of node.keys) yield* walk([...path, key])
        if (node._tag === "Array") for (let i = 0; i < node.length; i++) yield* walk([...path, i])
      })
    yield* walk([])
    return out
  }
)
