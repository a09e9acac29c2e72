/**
 * `mail_send {to, subject, body}`: writes the message as an RFC 5322 draft (`outbox/<time>-<id>.eml` in the
 * workspace), then sends exactly those bytes over SMTP through the `Mailer`.
 *
 * Enforced by the tool (the spec's `MailSendOptions`): every recipient must be allowed by `to` (an address,
 * compared without case, or an `@domain` suffix, which matches that domain and not its subdomains; empty allows
 * none), or nothing is sent and nothing is written; addresses and the subject may not hold line breaks (no header
 * injection). The sender is the spec's `from`, or the Mailer's.
 *
 * When the draft is written: as soon as a call is known to wait for a person ({@link writeDraft}, which the toolset
 * runs when the call's `needsApproval` says so), under a name of its own (`outbox/<digest of the call id>.eml`), so
 * that the person can read the very message in the outbox before deciding; once approved, the handler sends that
 * draft's bytes. A call that needs no approval is drafted and sent in one go. A denied call's draft stays in the
 * outbox, unsent. For the approval screen, {@link preview} renders the same message (and the recipients the tool
 * would refuse) from the call's parameters, without effects.
 */
import { createHash } from "node:crypto"
import type { ToolSpec } from "@troupe/agent-spec"
import * as Tool from "effect/ai/Tool"
import * as Toolkit from "effect/ai/Toolkit"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import MailComposer from "nodemailer/lib/mail-composer"
import * as SafeFs from "./internal/safeFs.ts"
import * as Mailer from "./Mailer.ts"
import {
  FileNotFound,
  InvalidArgument,
  IoFailed,
  MailFailed,
  PathRefused,
  RecipientNotAllowed,
  TooLarge,
  WrongFileType
} from "./ToolError.ts"
import * as Workspace from "./Workspace.ts"

/** The parameters of `mail_send`. */
export const Params = Schema.Struct({
  to: Schema.Array(Schema.String).annotate({ description: "Recipient addresses" }),
  subject: Schema.String,
  body: Schema.String.annotate({ description: "Plain text" })
})

/** The parameters of `mail_send`. */
export type Params = typeof Params.Type

/** Sends an email. */
export const MailSend = Tool.make("mail_send", {
  description: "Send a plain-text email to allowed recipients. A copy is kept in the workspace's outbox/.",
  parameters: Params,
  success: Schema.Struct({
    draft: Schema.String,
    accepted: Schema.Array(Schema.String),
    rejected: Schema.Array(Schema.String)
  }),
  failure: Schema.Union([
    RecipientNotAllowed,
    InvalidArgument,
    MailFailed,
    PathRefused,
    FileNotFound,
    WrongFileType,
    TooLarge,
    IoFailed
  ]),
  failureMode: "return"
})

/** The mail tool. */
export const toolkit = Toolkit.make(MailSend)

/** The options of `mail_send`: the spec's. */
export type Options = Partial<ToolSpec.ToolOptions["mail_send"]>

const address = /^[^\s@<>,;:"()[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/u

const lineBreak = /[\r\n]/u

/** Whether `to` (an address) is allowed by `allowed` (addresses and `@domain` suffixes). */
export const recipientAllowed = (allowed: ReadonlyArray<string>, to: string): boolean => {
  const lower = to.toLowerCase()
  return allowed.some((entry) => {
    const e = entry.toLowerCase()
    return e.startsWith("@") ? lower.endsWith(e) : lower === e
  })
}

/** Why a call would be refused, checked in the order the handler checks; `undefined` when it would be sent. */
export const refusal = (params: Params, options: Options): RecipientNotAllowed | InvalidArgument | undefined => {
  const allowed = options.to ?? []
  if (params.to.length === 0) return new InvalidArgument({ argument: "to", reason: "names no recipient" })
  for (const to of params.to) {
    if (!address.test(to))
      return new InvalidArgument({ argument: "to", reason: `${JSON.stringify(to)} is not an address` })
    if (!recipientAllowed(allowed, to)) return new RecipientNotAllowed({ address: to, allowed })
  }
  if (lineBreak.test(params.subject)) return new InvalidArgument({ argument: "subject", reason: "holds a line break" })
  return undefined
}

/** What the approval screen shows for a `mail_send` call. */
export interface Preview {
  readonly from: string | undefined
  readonly to: ReadonlyArray<string>
  readonly subject: string
  readonly body: string
  /** Why the tool would refuse the call, if it would. */
  readonly refused: string | undefined
  /** The message as a person reads it: headers, a blank line, the body. */
  readonly text: string
}

/**
 * The mail a `mail_send` call would send, for a person to approve: sender, recipients, subject, body, and why the
 * tool would refuse it. `from` is the Mailer's sender, when known.
 */
export const preview = (params: Params, options: Options, from?: string): Preview => {
  const sender = options.from ?? from
  const refused = refusal(params, options)
  return {
    from: sender,
    to: params.to,
    subject: params.subject,
    body: params.body,
    refused: refused === undefined ? undefined : `${refused._tag}: ${JSON.stringify(refused)}`,
    text: `From: ${sender ?? "(the transport's sender)"}\nTo: ${params.to.join(", ")}\nSubject: ${params.subject}\n\n${params.body}`
  }
}

/** Builds the RFC 5322 message. */
const compose = (message: {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly subject: string
  readonly body: string
  readonly date: Date
  readonly messageId: string
}) =>
  Effect.callback<Buffer, MailFailed>((resume) => {
    new MailComposer({
      from: message.from,
      to: [...message.to],
      subject: message.subject,
      text: message.body,
      date: message.date,
      messageId: message.messageId
    })
      .compile()
      .build((error, raw) => {
        resume(error === null ? Effect.succeed(raw) : Effect.fail(new MailFailed({ reason: error.message })))
      })
  })

/** A draft larger than this is not one this tool wrote: it is refused rather than sent. */
const maxDraftBytes = 10 * 1024 * 1024

/** Where the draft of the call `toolCallId` is kept: one name per call, so that drafting it again replaces it. */
export const draftPath = (toolCallId: string): string =>
  `outbox/${createHash("sha256").update(toolCallId).digest("hex").slice(0, 24)}.eml`

/**
 * Where the receipt of the call `toolCallId` is kept once its mail was sent. A call run again (a durable run resumed
 * after a crash while the call was in flight) finds it and answers with it rather than sending again.
 */
export const receiptPath = (toolCallId: string): string => `${draftPath(toolCallId)}.sent.json`

const Receipt = Schema.Struct({
  draft: Schema.String,
  accepted: Schema.Array(Schema.String),
  rejected: Schema.Array(Schema.String)
})
const decodeReceipt = Schema.decodeUnknownResult(Schema.fromJsonString(Receipt))

// The message of a call, checked and composed, and the name it is kept under.
const drafted = (params: Params, options: Options, mailer: Mailer.Service, toolCallId: string | undefined) =>
  Effect.gen(function* () {
    const refused = refusal(params, options)
    if (refused !== undefined) return yield* refused
    const from = options.from ?? mailer.from
    if (from === undefined) return yield* new MailFailed({ reason: "no sender: set from in the spec or the Mailer" })
    const now = yield* Clock.currentTimeMillis
    const id = (yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)
    const date = new Date(now)
    const raw = yield* compose({ ...params, from, date, messageId: `<${now.toString(36)}.${id}@troupe>` })
    const name =
      toolCallId === undefined ? `outbox/${date.toISOString().replace(/[:.]/gu, "-")}-${id}.eml` : draftPath(toolCallId)
    return { from, raw, name }
  })

/**
 * Writes the draft of a call that waits for a person's approval, under {@link draftPath}; nothing when the tool
 * would refuse the call. Returns the draft's path.
 */
export const writeDraft =
  (workspace: Workspace.Service, mailer: Mailer.Service, options: Options = {}) =>
  (params: Params, toolCallId: string) =>
    Effect.gen(function* () {
      const draft = yield* drafted(params, options, mailer, toolCallId)
      const file = yield* Workspace.resolve(workspace, draft.name, ["outbox/**"])
      yield* SafeFs.writeChecked(workspace, file, draft.raw)
      return file.path
    })

/** The handler of `mail_send`, over one workspace and mailer. */
export const handlers = (workspace: Workspace.Service, mailer: Mailer.Service, options: Options = {}) =>
  toolkit.of({
    mail_send: (params, context) =>
      Effect.gen(function* () {
        const toolCallId = context?.toolCallId
        const refused = refusal(params, options)
        if (refused !== undefined) return yield* refused
        if (toolCallId === undefined) {
          const draft = yield* drafted(params, options, mailer, undefined)
          const file = yield* Workspace.resolve(workspace, draft.name, ["outbox/**"])
          yield* SafeFs.writeChecked(workspace, file, draft.raw)
          const sent = yield* mailer.send({ from: draft.from, to: params.to }, draft.raw)
          return { draft: file.path, accepted: sent.accepted, rejected: sent.rejected }
        }
        // Sent before (the call is run again): the receipt answers, nothing is sent twice.
        const receipt = yield* Workspace.resolve(workspace, receiptPath(toolCallId), ["outbox/**"])
        if (receipt.exists) {
          const kept = yield* SafeFs.readCapped(workspace, receipt, 65_536)
          const decoded = decodeReceipt(kept.bytes.toString("utf8"))
          if (decoded._tag === "Failure")
            return yield* new MailFailed({ reason: `${receipt.path} says this mail was sent, but cannot be read` })
          return decoded.success
        }
        // The draft written while the call waited for approval is what the person saw: send exactly that.
        const waited = yield* Workspace.resolve(workspace, draftPath(toolCallId), ["outbox/**"])
        let raw: Uint8Array
        let from: string | undefined = options.from ?? mailer.from
        if (waited.exists) {
          const kept = yield* SafeFs.readCapped(workspace, waited, maxDraftBytes)
          if (kept.truncated) return yield* new TooLarge({ what: waited.path, size: kept.size, limit: maxDraftBytes })
          raw = kept.bytes
        } else {
          const draft = yield* drafted(params, options, mailer, toolCallId)
          yield* SafeFs.writeChecked(workspace, waited, draft.raw)
          raw = draft.raw
          from = draft.from
        }
        if (from === undefined)
          return yield* new MailFailed({ reason: "no sender: set from in the spec or the Mailer" })
        const sent = yield* mailer.send({ from, to: params.to }, raw)
        const result = { draft: waited.path, accepted: sent.accepted, rejected: sent.rejected }
        // The mail is gone: a receipt that cannot be written must not turn that into a failure the model would retry.
        yield* SafeFs.writeChecked(workspace, receipt, new TextEncoder().encode(JSON.stringify(result))).pipe(
          Effect.catch((error) => Effect.logWarning(`mail_send: sent, but its receipt was not written (${error._tag})`))
        )
        return result
      })
  })

/** The handler of `mail_send`, over the `Workspace` and `Mailer` in context. */
export const layer = (options: Options = {}) =>
  toolkit.toLayer(
    Effect.gen(function* () {
      return handlers(yield* Workspace.Workspace, yield* Mailer.Mailer, options)
    })
  )
