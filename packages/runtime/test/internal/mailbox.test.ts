import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as Mailbox from "../../src/internal/mailbox.ts"

describe("Mailbox", () => {
  it("takes what was offered, in order, up to its capacity", () => {
    const mailbox = new Mailbox.Mailbox<number>(3)
    assert.isTrue(mailbox.offer(1))
    assert.deepStrictEqual(mailbox.offerAll([2, 3, 4, 5]), [4, 5])
    assert.isFalse(mailbox.offer(6))
    assert.strictEqual(mailbox.size, 3)
    assert.deepStrictEqual(mailbox.takeAll(), [1, 2, 3])
    assert.strictEqual(mailbox.size, 0)
    assert.deepStrictEqual(mailbox.offerAll(new Set([7, 8])), [])
    assert.deepStrictEqual(mailbox.takeAll(), [7, 8])
  })

  it.effect("senders waiting for room are let in, in arrival order, as room is made", () =>
    Effect.gen(function* () {
      const mailbox = new Mailbox.Mailbox<number>(2)
      mailbox.offerAll([1, 2])
      const first = yield* Effect.forkChild(mailbox.offerWaiting([3, 4, 5]))
      const second = yield* Effect.forkChild(mailbox.offerWaiting([6]))
      yield* Effect.yieldNow
      assert.isFalse(mailbox.offer(99), "no overtaking of waiting senders")
      assert.deepStrictEqual(mailbox.takeAll(), [1, 2])
      assert.isUndefined(first.pollUnsafe(), "half of the first batch is still waiting")
      assert.deepStrictEqual(mailbox.takeAll(), [3, 4])
      assert.deepStrictEqual(yield* Fiber.join(first), [])
      assert.deepStrictEqual(mailbox.takeAll(), [5, 6])
      assert.deepStrictEqual(yield* Fiber.join(second), [])
      assert.isTrue(mailbox.offer(7))
    })
  )

  it.effect("a sender let in may offer again at once without losing its place or anyone's", () =>
    Effect.gen(function* () {
      const mailbox = new Mailbox.Mailbox<number>(1)
      mailbox.offer(0)
      const sender = yield* Effect.forkChild(
        Effect.gen(function* () {
          for (let i = 1; i <= 3; i++) {
            const left = yield* mailbox.offerWaiting([i])
            assert.deepStrictEqual(left, [])
          }
        })
      )
      yield* Effect.yieldNow
      const taken: Array<number> = []
      for (let i = 0; i < 4; i++) {
        taken.push(...mailbox.takeAll())
        yield* Effect.yieldNow
      }
      yield* Fiber.join(sender)
      assert.deepStrictEqual(taken, [0, 1, 2, 3])
    })
  )

  it.effect("closing hands over every message, waiting senders' included, and refuses the rest", () =>
    Effect.gen(function* () {
      const mailbox = new Mailbox.Mailbox<number>(1)
      mailbox.offer(1)
      const waiting = yield* Effect.forkChild(mailbox.offerWaiting([2, 3]))
      yield* Effect.yieldNow
      assert.deepStrictEqual(mailbox.close(), [1, 2, 3])
      assert.deepStrictEqual(yield* Fiber.join(waiting), [], "the closer answers for them")
      assert.isTrue(mailbox.isClosed)
      assert.isFalse(mailbox.offer(4))
      assert.deepStrictEqual(mailbox.offerAll([5]), [5])
      assert.deepStrictEqual(yield* mailbox.offerWaiting([6]), [6])
    })
  )

  it.effect("an interrupted sender is forgotten", () =>
    Effect.gen(function* () {
      const mailbox = new Mailbox.Mailbox<number>(1)
      mailbox.offer(1)
      const gaveUp = yield* Effect.forkChild(mailbox.offerWaiting([2]))
      const patient = yield* Effect.forkChild(mailbox.offerWaiting([3]))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(gaveUp)
      assert.deepStrictEqual(mailbox.takeAll(), [1])
      assert.deepStrictEqual(mailbox.takeAll(), [3])
      yield* Fiber.join(patient)
      assert.isTrue(mailbox.offer(4))
    })
  )
})
