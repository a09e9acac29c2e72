import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as AuditLog from "../../src/AuditLog.ts"
import { readAll, trailPath, withAudit } from "./support.ts"

const key = "sk-fake-0123456789abcdefXYZ"
const token = "ghs-like-but-not-a-known-shape-42"

const environment = {
  OPENAI_API_KEY: key,
  DEPLOY_TOKEN: token,
  DB_PASSWORD: "hunter2!",
  SHORT_SECRET: "abc1234",
  HOME: "/home/someone/projects",
  GREETING: "hello everyone"
}

describe("AuditLog redaction", () => {
  it.effect("every occurrence of a secret-named variable's value, nested, repeated or inside a word, is redacted", () =>
    withAudit(
      (audit, home) =>
        Effect.gen(function* () {
          const log = yield* audit.open("run", "backend")
          const entry = yield* log.append("AgentToolResult", {
            result: {
              stdout: [`export OPENAI_API_KEY=${key}; curl -H "x-key: ${key}"`, { deeper: [`token:${token}`] }],
              glued: `prefix${key}suffix`,
              [`header-${token}`]: "keys are strings too",
              password: "hunter2!"
            },
            home: environment.HOME,
            greeting: environment.GREETING,
            short: `the value abc1234 stays`
          })
          assert.deepStrictEqual(entry.data, {
            result: {
              stdout: [
                'export OPENAI_API_KEY=[redacted:OPENAI_API_KEY]; curl -H "x-key: [redacted:OPENAI_API_KEY]"',
                { deeper: ["token:[redacted:DEPLOY_TOKEN]"] }
              ],
              glued: "prefix[redacted:OPENAI_API_KEY]suffix",
              "header-[redacted:DEPLOY_TOKEN]": "keys are strings too",
              password: "[redacted:DB_PASSWORD]"
            },
            home: "/home/someone/projects",
            greeting: "hello everyone",
            short: "the value abc1234 stays"
          })
          yield* log.close
          const file = readFileSync(trailPath(home, "run"), "utf8")
          for (const secret of [key, token, "hunter2!"]) assert.notInclude(file, secret)
          assert.strictEqual((yield* audit.verify("run"))._tag, "Intact")
        }),
      { environment }
    )
  )

  it.effect("agent and type are redacted too, and explicit secrets (plain or Redacted) with them", () =>
    withAudit(
      (audit) =>
        Effect.gen(function* () {
          const log = yield* audit.open("run", `agent-${key}`)
          yield* log.append(`Type${key}`, { a: "provider key pk-live-explicit-999", b: "another explicit-two-value" })
          const [, entry] = yield* readAll(audit, "run")
          assert.strictEqual(entry!.agent, "agent-[redacted:OPENAI_API_KEY]")
          assert.strictEqual(entry!.type, "Type[redacted:OPENAI_API_KEY]")
          assert.deepStrictEqual(entry!.data, {
            a: "provider key [redacted:secret]",
            b: "another [redacted:secret]"
          })
        }),
      { environment, secrets: ["pk-live-explicit-999", Redacted.make("explicit-two-value")] }
    )
  )

  it.effect("well-known credential shapes are redacted even when no variable holds them", () =>
    withAudit((audit) =>
      Effect.gen(function* () {
        const log = yield* audit.open("run", "backend")
        const entry = yield* log.append("AgentToolResult", {
          openai: "found sk-proj-AbCdEf0123456789GhIjKl in .env",
          google: "AIzaSyA-1234567890abcdefghijklmnopqrstu",
          github: "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
          bearer: "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
          url: "postgres://app:s3cr3t-pw@db.internal:5432/prod",
          aws: "AKIAIOSFODNN7EXAMPLE",
          pem: "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
          ordinary: "task-management-system-overview-document sk-learn and risk-free"
        })
        assert.deepStrictEqual(entry.data, {
          openai: "found [redacted:sk-key] in .env",
          google: "[redacted:google-key]",
          github: "[redacted:github-token]",
          bearer: "Authorization: Bearer [redacted:bearer-token]",
          url: "postgres://app:[redacted:url-password]@db.internal:5432/prod",
          aws: "[redacted:aws-key-id]",
          pem: "[redacted:private-key]",
          ordinary: "task-management-system-overview-document sk-learn and risk-free"
        })
      })
    )
  )

  it("one naming rule decides which variables are secrets", () => {
    const secret = ["OPENAI_API_KEY", "GH_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "DBPASSWORD", "SSH_KEY_PATH"]
    const plain = ["HOME", "KEYBOARD_LAYOUT", "TOKENIZERS_PARALLELISM", "PATH", "OPENAI_BASE_URL", "MONKEY"]
    for (const name of secret) assert.isTrue(AuditLog.isSecretName(name), name)
    for (const name of plain) assert.isFalse(AuditLog.isSecretName(name), name)
  })
})
