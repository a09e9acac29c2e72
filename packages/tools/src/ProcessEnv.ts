/**
 * The environment a tool's child process gets: the parent's, scrubbed of everything that could be a secret, plus
 * the variables the spec gives explicitly.
 *
 * The rule ({@link isSecret}): a variable is dropped when
 * 1. one of its `_`-separated name parts is a secret word (`KEY`, `APIKEY`, `TOKEN`, `SECRET`, `PASSWORD`,
 *    `PASSWD`, `PASS`, `PASSPHRASE`, `PAT`, `CREDENTIAL(S)`, `AUTH`, `COOKIE`, `SESSION`, `PRIVATE`, `SIGNATURE`,
 *    `DSN`), or its name contains `PASSWORD`, `SECRET`, `TOKEN` or `APIKEY` anywhere (`npm_config_//host/:_authToken`);
 * 2. its name starts with the prefix of a provider or cloud whose variables carry credentials (`AWS_`, `AZURE_`,
 *    `GOOGLE_`, `GCP_`, `OPENAI_`, `ANTHROPIC_`, `GEMINI_`, `TROUPE_`, ... see {@link secretPrefixes});
 * 3. its value is a URL with a password in it (`postgres://user:pass@host/db`), whatever its name.
 *
 * So `OPENAI_API_KEY`, `GITHUB_TOKEN`, `DB_PASSWORD`, `AWS_REGION`, `SSH_AUTH_SOCK` and
 * `DATABASE_URL=postgres://u:p@h` are dropped; `PATH`, `HOME`, `LANG`, `LC_ALL`, `TERM`, `TZ`, `USER`, `SHELL`,
 * `TMPDIR`, `GIT_AUTHOR_NAME` and `NODE_ENV` stay. Over-scrubbing is the safe side: what a program needs and the
 * rule drops, the spec's `env` option gives back by name.
 *
 * @example
 * ```ts
 * import { ProcessEnv } from "@troupe/tools"
 *
 * ProcessEnv.scrub({ PATH: "/usr/bin", OPENAI_API_KEY: "sk-..." }) // { PATH: "/usr/bin" }
 * ```
 */

/** Name parts that mark a variable as a secret. */
export const secretWords: ReadonlySet<string> = new Set([
  "KEY",
  "KEYS",
  "APIKEY",
  "TOKEN",
  "TOKENS",
  "SECRET",
  "SECRETS",
  "PASSWORD",
  "PASSWD",
  "PASS",
  "PASSPHRASE",
  "PAT",
  "CREDENTIAL",
  "CREDENTIALS",
  "CREDS",
  "AUTH",
  "COOKIE",
  "SESSION",
  "PRIVATE",
  "SIGNATURE",
  "DSN"
])

/** Prefixes of providers and clouds whose variables carry credentials or point at accounts. */
export const secretPrefixes: ReadonlyArray<string> = [
  "AWS_",
  "AZURE_",
  "ARM_",
  "GOOGLE_",
  "GCP_",
  "GCLOUD_",
  "CLOUDSDK_",
  "DIGITALOCEAN_",
  "OPENAI_",
  "ANTHROPIC_",
  "GEMINI_",
  "MISTRAL_",
  "GROQ_",
  "XAI_",
  "DEEPSEEK_",
  "OPENROUTER_",
  "COHERE_",
  "HF_",
  "HUGGINGFACE_",
  "TOGETHER_",
  "FIREWORKS_",
  "REPLICATE_",
  "PERPLEXITY_",
  "GITHUB_",
  "GH_",
  "GITLAB_",
  "NPM_",
  "TROUPE_"
]

const secretSubstrings = ["PASSWORD", "SECRET", "TOKEN", "APIKEY", "API_KEY"]

const credentialUrl = /^[a-z][a-z0-9+.-]*:\/\/[^/\s@:]*:[^/\s@]+@/iu

/** Whether the variable `name` (with `value`) may hold a secret, by the rule in the module doc. */
export const isSecret = (name: string, value = ""): boolean => {
  const upper = name.toUpperCase()
  return (
    upper.split(/[^A-Z0-9]+/u).some((part) => secretWords.has(part)) ||
    secretSubstrings.some((word) => upper.includes(word)) ||
    secretPrefixes.some((prefix) => upper.startsWith(prefix)) ||
    credentialUrl.test(value)
  )
}

/** `env` without its secrets (see {@link isSecret}) and without unset entries. */
export const scrub = (env: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const kept: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isSecret(name, value)) kept[name] = value
  }
  return kept
}

/**
 * The environment of a tool's child process: this process's environment scrubbed, with `extra` (the spec's
 * `env` option, taken as given: it is how a person hands a program a variable on purpose) on top.
 */
export const forChild = (
  extra: Readonly<Record<string, string>> = {},
  parent: Readonly<Record<string, string | undefined>> = process.env
): Record<string, string> => ({ ...scrub(parent), ...extra })
