import { createServer } from "node:http"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ScriptedLanguageModel as Scripted } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Otlp, PrometheusMetrics } from "effect/observability"
import type * as AgentEvent from "../src/AgentEvent.ts"
import * as AgentMetrics from "../src/AgentMetrics.ts"
import * as Alerts from "../src/Alerts.ts"
import * as Run from "../src/Run.ts"
import { callTurn, harness, planTurn, reflectTurn, spec } from "./support.ts"

const script = () => [
  planTurn("a"),
  callTurn({ name: "fail", params: {} }),
  reflectTurn("continue"),
  Scripted.text("done", { usage: { inputTokens: 70, outputTokens: 30 } }),
  reflectTurn("done", { answer: "ok" })
]

/** A collector on 127.0.0.1 that keeps every OTLP body it receives, by path. */
const collector = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly bodies: Array<{ path: string; body: any }>; close: () => void }>(
    (resume) => {
      const bodies: Array<{ path: string; body: any }> = []
      const server = createServer((req, res) => {
        let text = ""
        req.on("data", (chunk) => (text += chunk))
        req.on("end", () => {
          bodies.push({ path: req.url ?? "", body: JSON.parse(text) })
          res.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as { port: number }
        resume(Effect.succeed({ url: `http://127.0.0.1:${address.port}`, bodies, close: () => server.close() }))
      })
    }
  ),
  (c) => Effect.sync(() => c.close())
)

const attribute = (span: any, key: string) => {
  const value = span.attributes.find((a: any) => a.key === key)?.value
  return value?.stringValue ?? (value?.intValue === undefined ? value?.doubleValue : Number(value.intValue))
}

describe("observability", () => {
  it.effect("metrics per agent and provider, readable as Prometheus text", () =>
    Effect.gen(function* () {
      // A name of its own: metrics are process-wide, and other tests' agents are called "tester".
      const h = yield* harness(script(), { pooled: true, spec: spec({ name: "observed" }) })
      const record = AgentMetrics.recorder()
      yield* Run.execute({ ...h.context, emit: (e) => Effect.andThen(h.context.emit(e), record(e)) }, h.control)
      const text = yield* PrometheusMetrics.format()
      assert.include(text, 'troupe_agent_runs_total{agent="observed",status="done"} 1')
      assert.include(text, 'troupe_agent_steps_total{agent="observed"} 2')
      assert.include(text, 'troupe_agent_tool_failures_total{agent="observed",tool="fail"} 1')
      assert.match(text, /troupe_agent_tokens_total\{agent="observed",provider="openai",direction="input"\} \d+/)
      assert.match(text, /troupe_agent_cost_usd_total\{agent="observed",provider="openai"\} 0\.000\d+/)
      assert.match(text, /troupe_agent_model_latency_ms_count\{agent="observed",provider="openai"\} 5/)
      assert.match(text, /troupe_agent_step_duration_ms_count\{agent="observed"\} 2/)
    })
  )

  it.live("spans with OpenTelemetry GenAI attributes, exported over OTLP", () =>
    Effect.gen(function* () {
      const otlp = yield* collector
      yield* Effect.scoped(
        Effect.gen(function* () {
          const h = yield* harness(script(), { pooled: true })
          yield* Run.execute(h.context, h.control)
        }).pipe(
          Effect.provide(
            Otlp.layerJson({ baseUrl: otlp.url, resource: { serviceName: "troupe-test" } }).pipe(
              Layer.provide(NodeHttpClient.layerUndici)
            )
          )
        )
      )
      const spans = otlp.bodies
        .filter((b) => b.path === "/v1/traces")
        .flatMap((b) => b.body.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans)))
      const names = spans.map((s: any) => s.name)
      assert.include(names, "invoke_agent tester")
      assert.include(names, "troupe.agent.step")
      assert.include(names, "execute_tool fail")
      // The tool's span is exported (so ended), inside the model call that ran it, with its GenAI attributes.
      const tool = spans.find((s: any) => s.name === "execute_tool fail")
      const parentOf = (span: any) => spans.find((s: any) => s.spanId === span.parentSpanId)
      assert.strictEqual(parentOf(tool)?.name, "LanguageModel.generateText")
      assert.strictEqual(parentOf(parentOf(tool))?.name, "chat tester")
      assert.strictEqual(attribute(tool, "gen_ai.tool.name"), "fail")
      assert.strictEqual(attribute(tool, "gen_ai.operation.name"), "execute_tool")
      const chats = spans.filter((s: any) => s.name === "chat tester")
      assert.strictEqual(chats.length, 5)
      const act = chats.find(
        (s: any) => attribute(s, "troupe.purpose") === "act" && attribute(s, "gen_ai.usage.input_tokens") === 70
      )
      assert.isDefined(act)
      assert.strictEqual(attribute(act, "gen_ai.provider.name"), "openai")
      assert.strictEqual(attribute(act, "gen_ai.usage.output_tokens"), 30)
      assert.strictEqual(attribute(act, "gen_ai.operation.name"), "chat")
    })
  )

  describe("alerts", () => {
    const ended = (status: AgentEvent.RunStatus, costUsd: number, at: number): AgentEvent.AgentEvent => ({
      _tag: "AgentRunEnded",
      runId: `run-${at}`,
      agent: "a",
      at,
      status,
      durationMs: 1,
      spend: {
        steps: 1,
        modelCalls: 1,
        inputTokens: 0,
        outputTokens: 0,
        costUsd,
        costEstimated: false,
        byProvider: []
      }
    })

    it("success rate below its bound over the window", () => {
      const watch = Alerts.monitor(spec({ alerts: [{ metric: "success-rate", below: 0.8, window: 5 }] }).alerts)
      const raised = [
        ...watch(ended("done", 0, 1)),
        ...watch(ended("done", 0, 2)),
        ...watch(ended("done", 0, 3)),
        ...watch(ended("done", 0, 4))
      ]
      assert.deepStrictEqual(raised, [])
      // 4 of 5 is 0.8: not below.
      assert.deepStrictEqual(watch(ended("failed", 0, 5)), [])
      const alert = watch(ended("failed", 0, 6))
      assert.strictEqual(alert.length, 1)
      assert.strictEqual(alert[0]!.value, 0.6)
      assert.strictEqual(alert[0]!.description, "success rate 0.60 over the last 5 runs is below 0.8")
    })

    it("cost per run above its bound", () => {
      const watch = Alerts.monitor(spec({ alerts: [{ metric: "cost-per-run", above: 1 }] }).alerts)
      assert.deepStrictEqual(watch(ended("done", 1, 1)), [])
      assert.strictEqual(watch(ended("done", 1.25, 2))[0]?.value, 1.25)
    })

    it("p95 step latency above its bound", () => {
      const watch = Alerts.monitor(spec({ alerts: [{ metric: "step-latency-p95", above: "1s", window: 20 }] }).alerts)
      const step = (at: number): AgentEvent.AgentEvent => ({
        _tag: "AgentStepStarted",
        runId: "r",
        agent: "a",
        at,
        step: 1
      })
      // 19 steps of 100 ms, then one of 5 s: the 95th percentile of 20 is the 19th value, 100 ms.
      let at = 0
      for (let i = 0; i < 19; i++) {
        watch(step(at))
        at += 100
      }
      watch(step(at))
      at += 5000
      assert.deepStrictEqual(watch({ ...ended("done", 0, at), runId: "r" }), [])
      // One more slow step makes two of 21 slow (window 20): the 19th of 20 is now 5 s.
      watch(step(at))
      at += 5000
      const alert = watch({ ...ended("done", 0, at), runId: "r" })
      assert.strictEqual(alert[0]?.value, 5000)
    })
  })
})
