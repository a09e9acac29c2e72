/**
 * The `mailer` agent (`agents/mailer.yaml`): a status email drafted from the workspace's facts, sent only once a
 * person approved it, over SMTP to a real server started here, with its `.eml` draft kept in the outbox.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Mailer } from "@troupe/tools"
import * as Effect from "effect/Effect"
import { SMTPServer } from "smtp-server"
import { call, say, scenario, slow, tempDir, toolResults } from "./support.ts"

interface Received {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly data: string
}

// A real SMTP server on 127.0.0.1 recording what it receives.
const smtpServer = Effect.acquireRelease(
  Effect.callback<{ port: number; received: Array<Received>; server: SMTPServer }>((resume) => {
    const received: Array<Received> = []
    const server = new SMTPServer({
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Array<Buffer> = []
        stream.on("data", (c: Buffer) => chunks.push(c))
        stream.on("end", () => {
          received.push({
            from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString()
          })
          callback()
        })
      }
    })
    server.listen(0, "127.0.0.1", () => {
      resume(Effect.succeed({ port: (server.server.address() as AddressInfo).port, received, server }))
    })
  }),
  ({ server }) => Effect.callback<void>((resume) => server.close(() => resume(Effect.void)))
)

const outbox = (dir: string): ReadonlyArray<string> => {
  const files = readdirSync(dir)
  return files.includes("outbox") ? readdirSync(join(dir, "outbox")).filter((f) => f.endsWith(".eml")) : []
}

describe("mailer agent", slow, () => {
  it.live("drafts from the facts, waits for approval, then sends over SMTP exactly the draft it keeps", () =>
    Effect.gen(function* () {
      const { port, received } = yield* smtpServer
      const dir = yield* tempDir("mailer")
      writeFileSync(join(dir, "status.md"), "# Release 1.4\n\nShipped on Tuesday. Login is 30% faster.\n")
      const atApproval: Array<{ readonly received: number; readonly drafts: number }> = []
      yield* scenario(
        "mailer",
        [
          call("fs_read", { path: "status.md" }),
          (seen) => {
            const facts = String(seen.result("fs_read")!.result.content).split("\n\n")[1]!.trim()
            return call("mail_send", {
              to: ["lead@example.com"],
              subject: "Release 1.4 shipped",
              body: `Release 1.4 is out. ${facts}\n\nNothing for you to do.`
            })
          },
          say("Sent the release note to lead@example.com.")
        ],
        {
          dir,
          services: Mailer.layer({ host: "127.0.0.1", port }),
          decide: () => {
            atApproval.push({ received: received.length, drafts: outbox(dir).length })
            return { approved: true }
          }
        },
        ({ agent, decided }) =>
          Effect.gen(function* () {
            yield* agent.run("Tell lead@example.com that release 1.4 shipped")
            assert.deepStrictEqual(
              decided.map((d) => d.request.tool),
              ["mail_send"]
            )
            // Nothing was written or sent while the send waited for the person.
            // The person deciding can read the draft in the outbox; nothing is sent yet.
            assert.deepStrictEqual(atApproval, [{ received: 0, drafts: 1 }])
            const drafts = outbox(dir)
            assert.strictEqual(drafts.length, 1)
            assert.match(drafts[0]!, /\.eml$/)
            const draft = readFileSync(join(dir, "outbox", drafts[0]!), "utf8")
            assert.strictEqual(received.length, 1)
            assert.deepStrictEqual(received[0]!.to, ["lead@example.com"])
            assert.strictEqual(received[0]!.from, "troupe@example.com")
            // What the server received is the draft (SMTP carries every line ending as CRLF).
            const lines = (text: string) => text.replace(/\r\n/g, "\n").trimEnd()
            assert.strictEqual(lines(received[0]!.data), lines(draft))
            assert.match(draft, /^Subject: Release 1\.4 shipped$/m)
            assert.match(draft, /Login is 30% faster\./)
          })
      )
    })
  )

  it.live("a denied send and a recipient outside the allowed domain send nothing; only the denied draft stays", () =>
    Effect.gen(function* () {
      const { port, received } = yield* smtpServer
      yield* scenario(
        "mailer",
        [
          call("mail_send", { to: ["someone@elsewhere.test"], subject: "Hi", body: "approved, but not allowed" }),
          call("mail_send", { to: ["lead@example.com"], subject: "Hi", body: "allowed, but denied" }),
          say("Nothing was sent.")
        ],
        {
          services: Mailer.layer({ host: "127.0.0.1", port }),
          decide: (request) =>
            JSON.stringify(request.params).includes("elsewhere")
              ? { approved: true }
              : { approved: false, reason: "not now" }
        },
        ({ agent, dir, events }) =>
          Effect.gen(function* () {
            yield* agent.run("Say hi")
            assert.deepStrictEqual(received, [])
            // The draft the person read and denied stays in the outbox, unsent; the refused recipient got none.
            const drafts = outbox(dir)
            assert.lengthOf(drafts, 1)
            assert.include(readFileSync(join(dir, "outbox", drafts[0]!), "utf8"), "allowed, but denied")
            assert.deepStrictEqual(
              toolResults(events).map((r) => [r.tool, r.isFailure, r.result?._tag]),
              [["mail_send", true, "RecipientNotAllowed"]]
            )
          })
      )
    })
  )
})
