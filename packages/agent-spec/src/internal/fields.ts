import * as Schema from "effect/Schema"

/**
 * A struct field that may be left out, taking `value` when it is. The description and default are annotated on the
 * encoded side so that the generated JSON Schema shows both.
 *
 * The default is decoded like a written value and applied after the field's own decoding (a `TypeKey` default), so
 * a failing entry deep inside a defaulted list never hides the problems of its siblings.
 */
export const withDefault = <S extends Schema.Top>(
  schema: S,
  description: string,
  value: S["Encoded"]
): Schema.withDecodingDefaultTypeKey<S, S["DecodingServices"]> =>
  Schema.withDecodingDefaultTypeKey<S, S["DecodingServices"]>(Schema.decodeUnknownEffect(schema)(value))(
    Schema.annotate<S>({ description: `${description} Default: ${JSON.stringify(value)}.`, default: value })(
      schema
    ) as S
  )

/** A struct field that may be left out and stays absent when it is. */
export const optional = <S extends Schema.Top>(schema: S, description: string): Schema.optionalKey<S> =>
  Schema.optionalKey(Schema.annotate<S>({ description })(schema) as S)

/** A required struct field with its description. */
export const required = <S extends Schema.Top>(schema: S, description: string): S =>
  Schema.annotate<S>({ description })(schema) as S

/** A list of strings. */
export const Strings = Schema.Array(Schema.String)

/** A non-empty string. */
export const Text = Schema.String.check(Schema.isNonEmpty({ message: "Expected a non-empty string" }))
