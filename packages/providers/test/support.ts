/**
 * Setup shared by the language model adapter tests: a weather tool, and a fresh fake server with the adapter
 * under test in front of it.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Schema, type Scope } from "effect"
import { LanguageModel, Tool, Toolkit } from "effect/ai"
import type { HttpClient } from "effect/http"
import type * as FakeServer from "../src/testing/FakeServer.ts"

/** A tool with one required parameter, as a model would be offered it. */
export const GetWeather = Tool.make("get_weather", {
  description: "Weather for a city",
  parameters: Schema.Struct({ city: Schema.String }),
  success: Schema.String
})

/** A toolkit of {@link GetWeather}. */
export const Weather = Toolkit.make(GetWeather)

/** Handlers of {@link Weather}: always sunny. */
export const WeatherHandlers = Weather.toLayer({ get_weather: ({ city }) => Effect.succeed(`sunny in ${city}`) })

/** The JSON body of the server's `i`-th request. */
export const body = (server: FakeServer.FakeServer, i = 0) => server.requests[i]!.body as any

/**
 * Builds a `withModel(options, test, extra?)` that starts a fake server with `options`, builds the adapter on
 * its URL with `connect`, and runs `test` with that `LanguageModel` provided, scoped, over undici.
 */
export const modelOn =
  <Extra = never>(
    start: (options: FakeServer.Options) => Effect.Effect<FakeServer.FakeServer, never, Scope.Scope>,
    connect: (
      baseUrl: string,
      extra?: Extra
    ) => Effect.Effect<LanguageModel.LanguageModel, never, HttpClient.HttpClient>
  ) =>
  <A, E, R>(
    options: FakeServer.Options,
    test: (server: FakeServer.FakeServer) => Effect.Effect<A, E, R>,
    extra?: Extra
  ) =>
    Effect.gen(function* () {
      const server = yield* start(options)
      const model = yield* connect(server.url, extra)
      return yield* test(server).pipe(Effect.provideService(LanguageModel.LanguageModel, model))
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

/** True when `text` holds a control character other than tab and newline (C0, DEL or C1). */
export const hasControls = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f)) return true
  }
  return false
}
