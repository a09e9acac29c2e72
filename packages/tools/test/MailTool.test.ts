import * as Fs from "node:fs/promises"
import type { AddressInfo } from "node:net"
import * as Path from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { SMTPServer } from "smtp-server"
import * as Mailer from "../src/Mailer.ts"
import * as MailTool from "../src/MailTool.ts"
import type * as Workspace from "../src/Workspace.ts"
import { caller, sandbox } from "./support.ts"

interface Received {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly data: string
  readonly user: string | undefined
}

// A real SMTP server on 127.0.0.1 (no TLS), accepting one login, recording what it receives.
const smtpServer = Effect.acquireRelease(
  Effect.callback<{ port: number; received: Array<Received>; server: SMTPServer }>((resume) => {
    const received: Array<Received> = []
    const server = new SMTPServer({
      disabledCommands: ["STARTTLS"],
      authOptional: true,
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === "bot" && auth.password === "s3cret-pw") callback(null, { user: "bot" })
        else callback(new Error("Invalid username or password"))
      },
      onData(stream, session, callback) {
        const chunks: Array<Buffer> = []
        stream.on("data", (c: Buffer) => chunks.push(c))
        stream.on("end", () => {
          received.push({
            from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString(),
            user: session.user as string | undefined
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

const withMail = <A, E>(
  options: MailTool.Options,
  f: (env: {
    root: string
    received: Array<Received>
    tool: ReturnType<typeof caller>
    workspace: Workspace.Service
    mailer: Mailer.Service
  }) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const { root, workspace } = yield* sandbox
    const { port, received } = yield* smtpServer
    const mailer = yield* Mailer.make({
      host: "127.0.0.1",
      port,
      user: "bot",
      password: Redacted.make("s3cret-pw"),
      from: "bot@troupe.test"
    })
    const tool = caller(MailTool.toolkit, MailTool.toolkit.toLayer(MailTool.handlers(workspace, mailer, options)))
    return yield* f({ root, received, tool, workspace, mailer })
  }).pipe(Effect.scoped)

describe("MailTool", () => {
  it.live("writes the draft and sends it over SMTP to an allowed recipient", () =>
    withMail({ to: ["alice@example.com", "@team.test"] }, ({ root, received, tool }) =>
      Effect.gen(function* () {
        const sent = yield* tool("mail_send", {
          to: ["Alice@example.com", "bob@team.test"],
          subject: "Build fixed ✓",
          body: "The build is green again."
        })
        assert.isFalse(sent.isFailure, JSON.stringify(sent.result))
        assert.deepStrictEqual(sent.result.accepted, ["Alice@example.com", "bob@team.test"])
        assert.strictEqual(received.length, 1)
        assert.deepStrictEqual(received[0]!.to, ["Alice@example.com", "bob@team.test"])
        assert.strictEqual(received[0]!.from, "bot@troupe.test")
        assert.strictEqual(received[0]!.user, "bot")
        assert.include(received[0]!.data, "The build is green again.")
        assert.match(sent.result.draft, /^outbox\/.+\.eml$/u)
        const draft = yield* Effect.promise(() => Fs.readFile(Path.join(root, sent.result.draft), "utf8"))
        assert.include(draft, "Subject: =?UTF-8?Q?Build_fixed_=E2=9C=93?=")
        assert.include(draft, "To: Alice@example.com, bob@team.test")
        // The server receives exactly the draft (the SMTP layer may only add its own trace headers).
        assert.include(received[0]!.data.replace(/\r\n/gu, "\n"), draft.replace(/\r\n/gu, "\n").trim())
      })
    )
  )

  it.live(
    "the draft is in the outbox while the call waits for approval, exactly it is sent once approved, and once",
    () =>
      withMail({ to: ["@example.com"] }, ({ root, received, workspace, mailer }) =>
        Effect.gen(function* () {
          const params = { to: ["carol@example.com"], subject: "Release notes", body: "Version 2 is out.\nThanks." }
          const path = yield* MailTool.writeDraft(workspace, mailer, { to: ["@example.com"] })(params, "call_7")
          assert.strictEqual(path, MailTool.draftPath("call_7"))
          const draft = yield* Effect.promise(() => Fs.readFile(Path.join(root, path), "utf8"))
          assert.include(draft, "Subject: Release notes")
          assert.strictEqual(received.length, 0)
          const handle = MailTool.handlers(workspace, mailer, { to: ["@example.com"] }).mail_send
          const sent = yield* handle(params, { toolCallId: "call_7", preliminary: () => Effect.void } as never)
          assert.strictEqual(sent.draft, path)
          assert.strictEqual(received.length, 1)
          assert.include(received[0]!.data.replace(/\r\n/gu, "\n"), draft.replace(/\r\n/gu, "\n").trim())
          const receipt = MailTool.receiptPath("call_7")
          assert.deepStrictEqual((yield* Effect.promise(() => Fs.readdir(Path.join(root, "outbox")))).sort(), [
            path.slice(7),
            receipt.slice(7)
          ])
          // Run again (a resumed run whose call was in flight at a crash): the receipt answers, nothing is sent twice.
          const again = yield* handle(params, { toolCallId: "call_7", preliminary: () => Effect.void } as never)
          assert.deepStrictEqual(again, sent)
          assert.strictEqual(received.length, 1)
          // A call the tool would refuse leaves no draft behind.
          const refused = yield* Effect.flip(
            MailTool.writeDraft(workspace, mailer, { to: ["@example.com"] })(
              { ...params, to: ["eve@evil.test"] },
              "call_8"
            )
          )
          assert.strictEqual(refused._tag, "RecipientNotAllowed")
          assert.lengthOf(yield* Effect.promise(() => Fs.readdir(Path.join(root, "outbox"))), 2)
        })
      )
  )

  it.live("sends nothing, and writes no draft, when one recipient is not allowed", () =>
    withMail({ to: ["alice@example.com", "@team.test"] }, ({ root, received, tool }) =>
      Effect.gen(function* () {
        for (const to of [["alice@example.com", "eve@evil.test"], ["x@sub.team.test"], ["eve@evilteam.test"]]) {
          const refused = yield* tool("mail_send", { to, subject: "hi", body: "b" })
          assert.strictEqual(refused.result._tag, "RecipientNotAllowed", JSON.stringify(refused.result))
        }
        const injected = yield* tool("mail_send", {
          to: ["alice@example.com\r\nBcc: eve@evil.test"],
          subject: "hi",
          body: "b"
        })
        assert.deepInclude(injected.result, { _tag: "InvalidArgument", argument: "to" })
        const subject = yield* tool("mail_send", {
          to: ["alice@example.com"],
          subject: "hi\r\nBcc: eve@evil.test",
          body: "b"
        })
        assert.deepInclude(subject.result, { _tag: "InvalidArgument", argument: "subject" })
        assert.strictEqual(received.length, 0)
        const outbox = yield* Effect.promise(() => Fs.readdir(Path.join(root, "outbox")).catch(() => []))
        assert.deepStrictEqual(outbox, [])
      })
    )
  )

  it.live("allows nobody when to is empty", () =>
    withMail({}, ({ received, tool }) =>
      Effect.gen(function* () {
        const refused = yield* tool("mail_send", { to: ["alice@example.com"], subject: "hi", body: "b" })
        assert.deepStrictEqual(refused.result, {
          _tag: "RecipientNotAllowed",
          address: "alice@example.com",
          allowed: []
        })
        assert.strictEqual(received.length, 0)
      })
    )
  )

  it("previews a call for the approval screen without sending", () => {
    const options = { to: ["@team.test"], from: "ops@team.test" }
    const ok = MailTool.preview({ to: ["a@team.test"], subject: "S", body: "B" }, options)
    assert.strictEqual(ok.text, "From: ops@team.test\nTo: a@team.test\nSubject: S\n\nB")
    assert.isUndefined(ok.refused)
    const bad = MailTool.preview({ to: ["a@else.test"], subject: "S", body: "B" }, options)
    assert.include(bad.refused, "RecipientNotAllowed")
  })

  it.effect("reads its SMTP server from TROUPE_SMTP_URL, or host and port variables", () =>
    Effect.gen(function* () {
      const fromUrl = Mailer.fromUrl("smtps://bot:p%40ss@mail.example.com")!
      assert.deepInclude(fromUrl, { host: "mail.example.com", port: 465, secure: true, user: "bot" })
      assert.strictEqual(Redacted.value(fromUrl.password!), "p@ss")
      assert.notInclude(String(fromUrl.password), "p@ss")
      assert.isUndefined(Mailer.fromUrl("http://mail.example.com"))
      const saved = { ...process.env }
      Object.assign(process.env, {
        TROUPE_SMTP_HOST: "127.0.0.1",
        TROUPE_SMTP_PORT: "2525",
        TROUPE_SMTP_FROM: "a@b.test"
      })
      const config = yield* Mailer.config.pipe(
        Effect.ensuring(
          Effect.sync(() => {
            process.env = saved
          })
        )
      )
      assert.deepStrictEqual(config, { host: "127.0.0.1", port: 2525, secure: false, from: "a@b.test" })
      const mailer = yield* Layer.build(Mailer.layer(config)).pipe(Effect.scoped)
      assert.isDefined(mailer)
    })
  )
})
