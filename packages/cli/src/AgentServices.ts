/**
 * What the commands that run agents (`run`, `orchestrate`, `serve`, the interactive mode) give their agents on this
 * machine: an actor system, the agents' event hub, one provider pool, the undici client, the Node services the tools
 * need, the workspace, the audit trails of `$TROUPE_HOME`, and, when asked, the run journal and long-term memory.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { AgentEvents, RunJournal } from "@troupe/agent"
import { KnowledgeBase, Memory } from "@troupe/memory"
import { LocalEmbedder, ProviderPool } from "@troupe/providers"
import { ActorSystem } from "@troupe/runtime"
import { Tools, Workspace } from "@troupe/tools"
import * as Layer from "effect/Layer"
import * as TroupeHome from "./TroupeHome.ts"

/** Long-term memory and the knowledge base in `directory`, with the local embedder. */
export const memory = (directory: string) =>
  Layer.mergeAll(
    Memory.layer({ directory }).pipe(Layer.provide(LocalEmbedder.layer())),
    KnowledgeBase.layer({ directory })
  )

/** The services of agents working in `workspace`. */
export const layer = (options: {
  readonly workspace: string
  /** Long-term memory in this directory (`$TROUPE_HOME/memory`); none when absent. */
  readonly memory?: string | undefined
  /** Runs journalled under this directory (`$TROUPE_HOME/runs`), so that they resume; not durable when absent. */
  readonly runs?: string | undefined
  /** The agents' event hub (default: a plain one). */
  readonly events?: Layer.Layer<AgentEvents.AgentEvents> | undefined
}) =>
  Layer.mergeAll(
    ActorSystem.layer(),
    options.events ?? AgentEvents.layer,
    ProviderPool.layer(),
    NodeHttpClient.layerUndici,
    Tools.layerNode,
    Workspace.layer(options.workspace),
    TroupeHome.auditLayer,
    options.runs === undefined ? Layer.empty : RunJournal.layer({ directory: options.runs }),
    options.memory === undefined ? Layer.empty : memory(options.memory)
  )
