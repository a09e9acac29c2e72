/**
 * An actor's bounded mailbox: a buffer with one consumer (the actor's burst, which only runs when there are
 * messages, so it never waits to take) and senders that may wait for room.
 *
 * Why not `effect/Queue`: a queue is built for waiting takers and several consumers (three sets, a linked list,
 * a dispatcher); an idle actor's mailbox is mostly empty, and this one is an array and a few fields, made
 * synchronously, which is what keeps spawning and idle actors cheap. The drain (`takeAll`) hands over every
 * message at once, like `Queue.takeAll`.
 */
import * as Effect from "effect/Effect"

interface Waiting<A> {
  readonly items: ReadonlyArray<A>
  offset: number
  readonly resume: (left: ReadonlyArray<A>) => void
}

const none: ReadonlyArray<never> = []

/** A bounded buffer with one consumer and senders that wait for room (in arrival order). */
export class Mailbox<A> {
  readonly capacity: number
  private items: Array<A> = []
  // Allocated on first use: most mailboxes never fill up.
  private waiting: Array<Waiting<A>> | undefined = undefined
  private closed = false

  constructor(capacity: number) {
    this.capacity = capacity
  }

  get size(): number {
    return this.items.length
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Adds `item` if there is room and the mailbox is open (senders already waiting go first). */
  offer(item: A): boolean {
    if (this.closed || this.items.length >= this.capacity || this.waiting !== undefined) return false
    this.items.push(item)
    return true
  }

  /** Adds as many of `items` as fit, in order; returns the rest. */
  offerAll(items: Iterable<A>): ReadonlyArray<A> {
    const all = Array.isArray(items) ? (items as ReadonlyArray<A>) : Array.from(items)
    if (this.closed || this.waiting !== undefined) return all
    const fit = Math.min(all.length, this.capacity - this.items.length)
    for (let i = 0; i < fit; i++) this.items.push(all[i]!)
    return fit === all.length ? none : all.slice(fit)
  }

  /**
   * Waits until every one of `items` is in, in order, or the mailbox closes: then succeeds with the ones that
   * were not added. Interrupting the wait leaves the rest out.
   */
  offerWaiting(items: ReadonlyArray<A>): Effect.Effect<ReadonlyArray<A>> {
    return Effect.callback<ReadonlyArray<A>>((resume) => {
      if (this.closed) return resume(Effect.succeed(items))
      const entry: Waiting<A> = { items, offset: 0, resume: (left) => resume(Effect.succeed(left)) }
      this.waiting ??= []
      this.waiting.push(entry)
      this.admit()
      return Effect.sync(() => this.forget(entry))
    })
  }

  /** Takes every message, and lets waiting senders fill the room it made. */
  takeAll(): Array<A> {
    const taken = this.items
    this.items = []
    this.admit()
    return taken
  }

  /** Closes the mailbox and returns what it held, waiting senders' messages included (they are released). */
  close(): Array<A> {
    this.closed = true
    const left = this.items
    this.items = []
    const waiting = this.waiting
    this.waiting = undefined
    if (waiting !== undefined) {
      for (const entry of waiting) {
        for (let i = entry.offset; i < entry.items.length; i++) left.push(entry.items[i]!)
        entry.resume(none)
      }
    }
    return left
  }

  // A resumed sender runs at once and may offer again, so the state is read afresh after each resume.
  private admit(): void {
    while (true) {
      const waiting = this.waiting
      if (waiting === undefined) return
      const entry = waiting[0]!
      while (entry.offset < entry.items.length && this.items.length < this.capacity) {
        this.items.push(entry.items[entry.offset++]!)
      }
      if (entry.offset < entry.items.length) return
      waiting.shift()
      if (waiting.length === 0) this.waiting = undefined
      entry.resume(none)
    }
  }

  private forget(entry: Waiting<A>): void {
    const index = this.waiting?.indexOf(entry) ?? -1
    if (index < 0) return
    this.waiting!.splice(index, 1)
    if (this.waiting!.length === 0) this.waiting = undefined
  }
}
