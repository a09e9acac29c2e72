/**
 * `@troupe/runtime`: actors with typed protocols and errors, bounded mailboxes, OTP-style supervision,
 * death watch, and an actor system publishing lifecycle events.
 */
export * as Actor from "./Actor.ts"
export * as ActorError from "./ActorError.ts"
export * as ActorRef from "./ActorRef.ts"
export * as ActorSystem from "./ActorSystem.ts"
export * as ExitReason from "./ExitReason.ts"
export * as LifecycleEvent from "./LifecycleEvent.ts"
export * as Next from "./Next.ts"
export * as ReplyTo from "./ReplyTo.ts"
export * as Supervisor from "./Supervisor.ts"
