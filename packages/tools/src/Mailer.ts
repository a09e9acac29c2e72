/**
 * The mail transport `mail_send` sends through: a raw RFC 5322 message to an envelope, over SMTP with nodemailer.
 *
 * Configure it with {@link layer} (a host, port and credentials given in code) or {@link layerConfig}, which reads
 * `TROUPE_SMTP_URL` (`smtp://user:pass@host:587`, `smtps://...:465`), or else `TROUPE_SMTP_HOST`,
 * `TROUPE_SMTP_PORT` (587), `TROUPE_SMTP_USER`, `TROUPE_SMTP_PASSWORD` and `TROUPE_SMTP_SECURE` (TLS from the
 * first byte; `true` by default on port 465), and `TROUPE_SMTP_FROM`, the sender used when the spec names none.
 * The URL and the password are read as redacted values and never reach an error or a tool result (and
 * `ProcessEnv` keeps every `TROUPE_` variable away from child processes).
 *
 * @example
 * ```ts
 * import { Effect, Redacted } from "effect"
 * import { Mailer } from "@troupe/tools"
 *
 * const smtp = Mailer.layer({ host: "smtp.example.com", port: 587, user: "bot", password: Redacted.make("..."), from: "bot@example.com" })
 * ```
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { MailFailed } from "./ToolError.ts"

/** Who a message goes to, as told to the SMTP server (`MAIL FROM`, `RCPT TO`). */
export interface Envelope {
  readonly from: string
  readonly to: ReadonlyArray<string>
}

/** What the SMTP server said. */
export interface Sent {
  readonly accepted: ReadonlyArray<string>
  readonly rejected: ReadonlyArray<string>
  readonly response: string
}

/** Sends raw messages. */
export interface Service {
  /** The sender used when the tool's options name none. */
  readonly from: string | undefined
  /** Sends `raw` (an RFC 5322 message) to `envelope`. */
  readonly send: (envelope: Envelope, raw: Uint8Array) => Effect.Effect<Sent, MailFailed>
}

/** The mail transport. */
export class Mailer extends Context.Service<Mailer, Service>()("@troupe/tools/Mailer") {}

/** An SMTP server and how to log in to it. */
export interface SmtpConfig {
  readonly host: string
  readonly port: number
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
  readonly secure?: boolean
  /** Refuse to send unless the connection is encrypted (STARTTLS required). */
  readonly requireTls?: boolean
  readonly user?: string
  readonly password?: Redacted.Redacted<string>
  /** The default sender. */
  readonly from?: string
  /** How long sending one message may take, connection included (default 30 s). */
  readonly timeout?: Duration.Duration
}

/** A transport over SMTP, closed with the scope. */
export const make = (config: SmtpConfig): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const timeout = config.timeout ?? Duration.seconds(30)
    // Loaded with the first transport, not with the package: most agents never send mail.
    const Nodemailer = yield* Effect.promise(() => import("nodemailer"))
    const transport = yield* Effect.acquireRelease(
      Effect.sync(() =>
        Nodemailer.createTransport({
          host: config.host,
          port: config.port,
          secure: config.secure ?? config.port === 465,
          requireTLS: config.requireTls ?? false,
          connectionTimeout: Duration.toMillis(timeout),
          greetingTimeout: Duration.toMillis(timeout),
          socketTimeout: Duration.toMillis(timeout),
          ...(config.user === undefined
            ? {}
            : {
                auth: {
                  user: config.user,
                  pass: config.password === undefined ? "" : Redacted.value(config.password)
                }
              })
        })
      ),
      (transport) => Effect.sync(() => transport.close())
    )
    return Mailer.of({
      from: config.from,
      send: (envelope, raw) =>
        Effect.tryPromise({
          try: () =>
            transport.sendMail({ envelope: { from: envelope.from, to: [...envelope.to] }, raw: Buffer.from(raw) }),
          // nodemailer's messages name the server and the SMTP reply, never the password.
          catch: (cause) => new MailFailed({ reason: cause instanceof Error ? cause.message : String(cause) })
        }).pipe(
          Effect.map((info) => ({
            accepted: info.accepted.map(String),
            rejected: info.rejected.map(String),
            response: info.response
          })),
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () =>
              Effect.fail(
                new MailFailed({ reason: `no answer from the SMTP server within ${Duration.format(timeout)}` })
              )
          })
        )
    })
  })

/** The mail transport over the SMTP server of `config`. */
export const layer = (config: SmtpConfig): Layer.Layer<Mailer> => Layer.effect(Mailer, make(config))

/** Reads an `smtp://` or `smtps://` URL into an {@link SmtpConfig}; `undefined` when it is not one. */
export const fromUrl = (url: string): SmtpConfig | undefined => {
  const parsed = URL.parse(url)
  if (parsed === null || (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:") || parsed.hostname === "") {
    return undefined
  }
  const secure = parsed.protocol === "smtps:"
  return {
    host: parsed.hostname,
    port: parsed.port === "" ? (secure ? 465 : 587) : Number(parsed.port),
    secure,
    ...(parsed.username === "" ? {} : { user: decodeURIComponent(parsed.username) }),
    ...(parsed.password === "" ? {} : { password: Redacted.make(decodeURIComponent(parsed.password)) })
  }
}

/** The `TROUPE_SMTP_*` variables do not describe an SMTP server. */
export class SmtpConfigError extends Schema.TaggedError<SmtpConfigError>()("SmtpConfigError", {
  reason: Schema.String
}) {}

/** The {@link SmtpConfig} from the `TROUPE_SMTP_*` variables (see the module doc). */
export const config: Effect.Effect<SmtpConfig, SmtpConfigError | Config.ConfigError> = Effect.gen(function* () {
  const url = yield* Config.option(Config.Redacted("TROUPE_SMTP_URL"))
  const from = Option.getOrUndefined(yield* Config.option(Config.String("TROUPE_SMTP_FROM")))
  const sender = from === undefined ? {} : { from }
  if (Option.isSome(url)) {
    const parsed = fromUrl(Redacted.value(url.value))
    if (parsed === undefined) {
      return yield* new SmtpConfigError({ reason: "TROUPE_SMTP_URL is not an smtp:// or smtps:// URL" })
    }
    return { ...parsed, ...sender }
  }
  const host = yield* Config.option(Config.String("TROUPE_SMTP_HOST"))
  if (Option.isNone(host)) return yield* new SmtpConfigError({ reason: "set TROUPE_SMTP_URL or TROUPE_SMTP_HOST" })
  const port = Option.getOrElse(yield* Config.option(Config.Port("TROUPE_SMTP_PORT")), () => 587)
  const secure = Option.getOrElse(yield* Config.option(Config.Boolean("TROUPE_SMTP_SECURE")), () => port === 465)
  const user = Option.getOrUndefined(yield* Config.option(Config.String("TROUPE_SMTP_USER")))
  const password = Option.getOrUndefined(yield* Config.option(Config.Redacted("TROUPE_SMTP_PASSWORD")))
  return {
    host: host.value,
    port,
    secure,
    ...(user === undefined ? {} : { user }),
    ...(password === undefined ? {} : { password }),
    ...sender
  }
})

/** The mail transport configured from the environment (see the module doc). */
export const layerConfig: Layer.Layer<Mailer, SmtpConfigError | Config.ConfigError> = Layer.effect(
  Mailer,
  Effect.flatMap(config, make)
)
