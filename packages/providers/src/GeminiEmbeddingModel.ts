/**
 * `EmbeddingModel` over Gemini `models/{model}:embedContent` (one input) and `:batchEmbedContents`
 * (several), key in `x-goog-api-key`.
 *
 * ```ts
 * const layer = GeminiEmbeddingModel.layer({
 *   baseUrl: "https://generativelanguage.googleapis.com/v1beta", apiKey, model: "gemini-embedding-001"
 * })
 * ```
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

/** Options of the Gemini embedding adapter. */
export interface Options extends Connection.Options {
  readonly model: string
  /** `outputDimensionality`: shortens the vectors of models that support it. */
  readonly dimensions?: number | undefined
  /** e.g. `RETRIEVAL_DOCUMENT` or `RETRIEVAL_QUERY`. */
  readonly taskType?: string | undefined
}

const Values = Schema.Struct({ values: Schema.Array(Schema.Number) })

/** The `embedContent` response body. */
export const EmbedContentResponse = Schema.Struct({ embedding: Values })

/** The `batchEmbedContents` response body. */
export const BatchEmbedContentsResponse = Schema.Struct({ embeddings: Schema.Array(Values) })

const MODULE = "GeminiEmbeddingModel"

/** Builds the `EmbeddingModel` service; needs an `HttpClient`. */
export const make = Effect.fnUntraced(function* (options: Options) {
  const client = yield* HttpClient.HttpClient
  const connection = Connection.resolve(options)
  const model = options.model.startsWith("models/") ? options.model : `models/${options.model}`
  const headers = Common.headers(connection, (key) => ({ "x-goog-api-key": key }))
  const site = { module: MODULE, method: "embedMany" }
  const request = (text: string) => ({
    model,
    content: { parts: [{ text }] },
    ...(options.dimensions === undefined ? {} : { outputDimensionality: options.dimensions }),
    ...(options.taskType === undefined ? {} : { taskType: options.taskType })
  })
  const noUsage = { inputTokens: undefined }
  return yield* EmbeddingModel.make({
    embedMany: Common.redactEmbedMany(connection, ({ inputs }) => {
      if (inputs.length === 1) {
        const endpoint = Connection.endpoint(connection, `${model}:embedContent`)
        return Effect.map(
          Http.postJson(
            client,
            { site, endpoint, headers, body: request(inputs[0]!), connection },
            EmbedContentResponse
          ),
          (body) => ({ results: [[...body.embedding.values]], usage: noUsage })
        )
      }
      const endpoint = Connection.endpoint(connection, `${model}:batchEmbedContents`)
      return Effect.flatMap(
        Http.postJson(
          client,
          { site, endpoint, headers, body: { requests: inputs.map(request) }, connection },
          BatchEmbedContentsResponse
        ),
        (body) =>
          body.embeddings.length === inputs.length
            ? Effect.succeed({ results: body.embeddings.map((e) => [...e.values]), usage: noUsage })
            : Effect.fail(
                ProviderError.invalidResponse(
                  site,
                  `expected ${inputs.length} embeddings, got ${body.embeddings.length}`
                )
              )
      )
    })
  })
})

/** The `EmbeddingModel` layer; needs an `HttpClient`. */
export const layer = (options: Options): Layer.Layer<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Layer.effect(EmbeddingModel.EmbeddingModel, make(options))
