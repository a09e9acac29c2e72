/**
 * An offline `EmbeddingModel`: hashed word and character n-gram features, no network and no model download.
 *
 * Each text becomes a bag of features — word unigrams, word bigrams and character n-grams (3–5 by default) of
 * every word — that are folded into a fixed number of dimensions with signed feature hashing (the sign halves
 * the bias of collisions), weighted with sublinear term frequency (`1 + ln tf`) and L2-normalised, so the dot
 * product of two vectors is their cosine similarity. The result is deterministic across runs and machines.
 *
 * It captures lexical and sub-word overlap (shared words, inflections, typos), not meaning: "car" and
 * "automobile" are unrelated to it. It is the default embedder of `@troupe/memory`; configure a provider's
 * embeddings when semantic recall matters more than zero setup.
 *
 * @example
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as EmbeddingModel from "effect/ai/EmbeddingModel"
 * import { LocalEmbedder } from "@troupe/providers"
 *
 * const vector = Effect.gen(function*() {
 *   const model = yield* EmbeddingModel.EmbeddingModel
 *   return (yield* model.embed("the build failed on CI")).vector
 * }).pipe(Effect.provide(LocalEmbedder.layer()))
 * ```
 */

import * as EmbeddingModel from "effect/ai/EmbeddingModel"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** Options of the local embedder; every field has a default. */
export interface Options {
  /** Vector length (default 384). */
  readonly dimensions?: number
  /** Smallest character n-gram (default 3). */
  readonly minNgram?: number
  /** Largest character n-gram (default 5). */
  readonly maxNgram?: number
}

/** The default vector length, the size of common small sentence-embedding models. */
export const defaultDimensions = 384

// Weights chosen so that whole-word evidence dominates and sub-word evidence breaks ties and survives typos.
const wordWeight = 1
const bigramWeight = 0.7
const ngramWeight = 0.35

// Kept out of unigram and character features: they carry little topic and would make every sentence similar.
const stopWords = new Set(
  (
    "a an and are as at be but by for from has have he her his i in is it its of on or our she so " +
    "that the their them they this to was we were what when where which who will with you your"
  ).split(" ")
)

// Per-feature-kind seeds so that the word "abc" and the trigram "abc" land in different buckets.
const seedWord = 0x9e3779b1
const seedBigram = 0x85ebca77
const seedNgram = 0xc2b2ae3d

const fmix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

// FNV-1a over a slice of a string, without allocating the substring.
const hashRange = (s: string, start: number, end: number, seed: number): number => {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return fmix(h)
}

const tokenPattern = /[\p{L}\p{N}]+/gu

/** Lower-cased word tokens of a text (letters and digits in any script). */
export const tokenize = (text: string): Array<string> => text.toLowerCase().match(tokenPattern) ?? []

interface Resolved {
  readonly dimensions: number
  readonly minNgram: number
  readonly maxNgram: number
}

const resolve = (options: Options | undefined): Resolved => ({
  dimensions: Math.max(1, Math.floor(options?.dimensions ?? defaultDimensions)),
  minNgram: Math.max(1, Math.floor(options?.minNgram ?? 3)),
  maxNgram: Math.max(1, Math.floor(options?.maxNgram ?? 5))
})

const embedResolved = (text: string, o: Resolved): Array<number> => {
  const counts = new Map<number, number>()
  const weights = new Map<number, number>()
  const add = (hash: number, weight: number) => {
    counts.set(hash, (counts.get(hash) ?? 0) + 1)
    weights.set(hash, weight)
  }
  const tokens = tokenize(text)
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!
    if (t + 1 < tokens.length) {
      const bigram = `${token} ${tokens[t + 1]!}`
      add(hashRange(bigram, 0, bigram.length, seedBigram), bigramWeight)
    }
    if (stopWords.has(token)) continue
    add(hashRange(token, 0, token.length, seedWord), wordWeight)
    const padded = `<${token}>`
    for (let n = o.minNgram; n <= o.maxNgram; n++) {
      for (let i = 0; i + n <= padded.length; i++) add(hashRange(padded, i, i + n, seedNgram + n), ngramWeight)
    }
  }
  const vector = new Array<number>(o.dimensions).fill(0)
  for (const [hash, tf] of counts) {
    // Sublinear tf: a word repeated ten times is not ten times the evidence.
    const weight = weights.get(hash)! * (1 + Math.log(tf))
    // The sign comes from an independent remix so that it does not correlate with the bucket.
    vector[hash % o.dimensions]! += fmix(hash ^ 0x5bd1e995) & 1 ? -weight : weight
  }
  let norm = 0
  for (const x of vector) norm += x * x
  if (norm === 0) return vector
  const inv = 1 / Math.sqrt(norm)
  for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! * inv
  return vector
}

/**
 * Embeds one text synchronously: a unit-length vector of `dimensions` numbers.
 *
 * Gotcha: a text with no letters or digits embeds to the zero vector (there is nothing to normalise).
 */
export const embed = (text: string, options?: Options): Array<number> => embedResolved(text, resolve(options))

/** Cosine similarity of two vectors (the dot product for the unit vectors `embed` returns). */
export const cosine = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  let dot = 0
  let na = 0
  let nb = 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}

/** Builds the local embedder as an `EmbeddingModel` service. */
export const make = (options?: Options): Effect.Effect<EmbeddingModel.EmbeddingModel> => {
  const o = resolve(options)
  return EmbeddingModel.make({
    embedMany: ({ inputs }) =>
      Effect.sync(() => ({
        results: inputs.map((input) => embedResolved(input, o)),
        usage: { inputTokens: undefined }
      }))
  })
}

/**
 * Provides the local embedder as the `EmbeddingModel`, together with its `EmbeddingModel.Dimensions`.
 *
 * Use it as the offline default; replace it with a provider's embedding layer to change models (stored memory
 * embedded with another model or dimension is then refused with a typed error, never mixed).
 */
export const layer = (options?: Options): Layer.Layer<EmbeddingModel.EmbeddingModel | EmbeddingModel.Dimensions> =>
  Layer.merge(
    Layer.effect(EmbeddingModel.EmbeddingModel, make(options)),
    Layer.succeed(EmbeddingModel.Dimensions, resolve(options).dimensions)
  )
