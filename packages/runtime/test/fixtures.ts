/**
 * Behaviours shared by the runtime's tests.
 */
import { Effect, Schema } from "effect"
import { Actor, Next, ReplyTo } from "../src/index.ts"

export const Add = Schema.TaggedStruct("Add", { n: Schema.Int })
export const Get = Schema.TaggedStruct("Get", { replyTo: ReplyTo.schema<number>() })
export const Crash = Schema.TaggedStruct("Crash", { message: Schema.String })
export const Die = Schema.TaggedStruct("Die", {})
export const Halt = Schema.TaggedStruct("Halt", {})
export const Block = Schema.TaggedStruct("Block", { until: Schema.Any })
export const Divide = Schema.TaggedStruct("Divide", {
  by: Schema.Int,
  replyTo: ReplyTo.schema<number, DivisionByZero>()
})

export class DivisionByZero extends Schema.TaggedError<DivisionByZero>()("DivisionByZero", {}) {}
export class Boom extends Schema.TaggedError<Boom>()("Boom", { message: Schema.String }) {}

export const CounterProtocol = Schema.Union([Add, Get, Crash, Die, Halt, Block, Divide])
export type CounterMessage = typeof CounterProtocol.Type

/** A counter: adds, answers, fails on demand (typed or defect), stops on `Halt`, blocks on a deferred. */
export const counter = (options?: {
  readonly capacity?: number
  readonly start?: number
  readonly log?: Array<string>
}) =>
  Actor.make({
    protocol: CounterProtocol,
    capacity: options?.capacity,
    init: (context) =>
      Effect.sync(() => {
        options?.log?.push(`init ${context.path} #${context.incarnation}`)
        return options?.start ?? 0
      }),
    receive: (count, message): Effect.Effect<Next.Next<number>, Boom> => {
      switch (message._tag) {
        case "Add":
          return Effect.succeed(Next.continueWith(count + message.n))
        case "Get":
          return Effect.as(ReplyTo.succeed(message.replyTo, count), Next.continueWith(count))
        case "Divide":
          return Effect.as(
            message.by === 0
              ? ReplyTo.fail(message.replyTo, new DivisionByZero())
              : ReplyTo.succeed(message.replyTo, count / message.by),
            Next.continueWith(count)
          )
        case "Crash":
          return Effect.fail(new Boom({ message: message.message }))
        case "Die":
          return Effect.die("defect on purpose")
        case "Halt":
          return Effect.succeed(Next.stop)
        case "Block":
          return Effect.as(
            Effect.promise(() => message.until as Promise<void>),
            Next.continueWith(count)
          )
      }
    }
  })
