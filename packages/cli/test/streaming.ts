/**
 * The fake provider of the streaming tests: its act step streams the opening of the answer and holds the rest until
 * the test has seen that opening.
 */
import { FakeOpenAi, FakeServer } from "@troupe/providers/testing"
import * as Effect from "effect/Effect"
import { schemaName } from "./recorder.ts"

export const streamed = (request: FakeServer.Received) => (request.body as { stream?: boolean }).stream === true

/** No plan, `answer` from the act step and the reflection (with `reasoning`); the act step streams "Once" and holds the rest until `gate` opens. */
export const heldServer = (gate: FakeServer.Gate, answer: string, reasoning: string) =>
  Effect.gen(function* () {
    const requests: { current: ReadonlyArray<FakeServer.Received> } = { current: [] }
    const server = yield* FakeOpenAi.make({
      turns: (request) => {
        const name = schemaName(request)
        if (name === "plan") return { text: JSON.stringify({ goals: [] }) }
        if (name === "reflection") {
          return { text: JSON.stringify({ outcome: "done", reasoning, progress: [], answer }) }
        }
        return { text: answer }
      },
      // The act step's stream sends its role chunk and the first four characters ("Once"), then waits.
      faults: (index) => {
        const request = requests.current[index]
        return request !== undefined && streamed(request) && schemaName(request) === undefined
          ? FakeServer.hold(2, gate)
          : undefined
      }
    })
    requests.current = server.requests
    return server
  })
