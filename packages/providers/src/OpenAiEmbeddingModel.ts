/**
 * `EmbeddingModel` over an OpenAI-compatible `POST {baseUrl}/embeddings` (OpenAI, Ollama, vLLM, ...).
 *
 * ```ts
 * const layer = OpenAiEmbeddingModel.layer({ baseUrl: "https://api.openai.com/v1", apiKey, model: "text-embedding-3-small" })
 * const { vector } = yield* EmbeddingModel.EmbeddingModel.pipe(Effect.flatMap((m) => m.embed("hello")))
 * ```
 *
 * Concurrent `embed` calls are batched into one request by `EmbeddingModel`'s resolver; vectors come
 * back in input order (sorted by the response's `index`).
 */

import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Connection from "./Connection.ts"
import * as Common from "./internal/common.ts"
import * as Http from "./internal/http.ts"
import * as ProviderError from "./ProviderError.ts"

/** Options of the OpenAI-compatible embedding adapter. */
export interface Options extends Connection.Options {
  readonly model: string
  /** Requested vector length, for models that support shortening (`text-embedding-3-*`). */
  readonly dimensions?: number | undefined
}

/** The `/embeddings` response body. */
export const EmbeddingsResponse = Schema.Struct({
  data: Schema.Array(Schema.Struct({ index: Schema.optional(Schema.Number), embedding: Schema.Array(Schema.Number) })),
  usage: Schema.optional(Schema.NullOr(Schema.Struct({ prompt_tokens: Schema.optional(Schema.NullOr(Schema.Number)) })))
})

const MODULE = "OpenAiEmbeddingModel"

/** Builds the `EmbeddingModel` service; needs an `HttpClient`. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const client = yield* HttpClient.HttpClient
  const connection = Connection.resolve(options)
  const endpoint = Connection.endpoint(connection, "embeddings")
  const headers = Common.headers(connection, (key) => ({ authorization: `Bearer ${key}` }))
  const site = { module: MODULE, method: "embedMany" }
  return yield* EmbeddingModel.make({
    embedMany: Common.redactEmbedMany(connection, ({ inputs }) =>
      Effect.flatMap(
        Http.postJson(
          client,
          {
            site,
            endpoint,
            headers,
            body: {
              model: options.model,
              input: inputs,
              encoding_format: "float",
              ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions })
            },
            connection
          },
          EmbeddingsResponse
        ),
        (body) => {
          if (body.data.length !== inputs.length) {
            return Effect.fail(
              ProviderError.invalidResponse(site, `expected ${inputs.length} embeddings, got ${body.data.length}`)
            )
          }
          const sorted = body.data
            .map((item, position) => ({ index: item.index ?? position, embedding: item.embedding }))
            .sort((a, b) => a.index - b.index)
          return Effect.succeed({
            results: sorted.map((item) => [...item.embedding]),
            usage: { inputTokens: body.usage?.prompt_tokens ?? undefined }
          })
        }
      )
    )
  })
})

/** The `EmbeddingModel` layer; needs an `HttpClient`. */
export const layer = (options: Options): Layer.Layer<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Layer.effect(EmbeddingModel.EmbeddingModel, make(options))
