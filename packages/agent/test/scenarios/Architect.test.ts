/**
 * The `architect` agent (`agents/architect.yaml`): an architecture document under docs/ with its components, the
 * interfaces between them, and a Mermaid diagram that Mermaid's own parser accepts and that names every component.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { parse } from "@mermaid-js/parser"
import * as Effect from "effect/Effect"
import { call, calls, read, say, scenario, slow, tempDir, toolResults } from "./support.ts"

const design = `# Todo service: architecture

## Components
- **web**: the single-page client; renders the list and sends edits.
- **api**: the HTTP service; validates requests and owns the rules.
- **store**: PostgreSQL; keeps todos and their order.
- **mailer**: sends the daily digest through SMTP.

## Diagram
\`\`\`mermaid
architecture-beta
    group backend(cloud)[Backend]

    service web(internet)[Web client]
    service api(server)[API] in backend
    service store(database)[Store] in backend
    service mailer(server)[Mailer] in backend

    web:R --> L:api
    api:R --> L:store
    api:B --> T:mailer
\`\`\`

## Interfaces
- web → api: \`GET /todos\` → \`Todo[]\`; \`POST /todos { title }\` → \`201 Todo\`; \`PATCH /todos/:id { done }\` → \`Todo\`.
- api → store: SQL over one connection pool; \`todos(id uuid, title text, done bool, position int)\`.
- api → mailer: \`digest(to: string, todos: Todo[])\`, at most once a day per person.

## Failures
- store unreachable: the api answers 503 with \`Retry-After\`; the web client keeps unsent edits and retries.

## Rejected options
- A document store: the data is relational and small.
`

/** The Mermaid blocks of a Markdown document. */
const mermaidBlocks = (markdown: string): ReadonlyArray<string> =>
  [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gmu)].map((m) => m[1]!)

describe("architect agent", slow, () => {
  it.live("writes a design document whose Mermaid diagram parses and names every component and interface", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("architect")
      writeFileSync(join(dir, "README.md"), "# Todos\n\nA todo list on the web, with a daily email digest.\n")
      yield* scenario(
        "architect",
        [
          calls(["fs_list", { path: "." }], ["fs_read", { path: "README.md" }]),
          call("fs_write", { path: "docs/architecture.md", content: design }),
          // Code is not the architect's to write.
          call("fs_write", { path: "src/api.js", content: "export {}" }),
          say("The design is in docs/architecture.md.")
        ],
        { dir },
        ({ agent, events }) =>
          Effect.gen(function* () {
            yield* agent.run("Design the todo service")
            const doc = read(dir, "docs/architecture.md")
            const blocks = mermaidBlocks(doc)
            assert.strictEqual(blocks.length, 1)
            const diagram = yield* Effect.promise(() => parse("architecture", blocks[0]!))
            const services = diagram.services.map((s) => s.id)
            // Every component of the document is in the diagram, and every interface is an edge of it.
            const components = [...doc.matchAll(/^- \*\*(\w+)\*\*:/gmu)].map((m) => m[1]!)
            assert.deepStrictEqual(components.toSorted(), services.toSorted())
            const edges = diagram.edges.map((e) => `${e.lhsId}->${e.rhsId}`)
            const interfaces = [...doc.matchAll(/^- (\w+) → (\w+):/gmu)].map((m) => `${m[1]}->${m[2]}`)
            assert.deepStrictEqual(interfaces.toSorted(), edges.toSorted())
            for (const section of ["Components", "Interfaces", "Failures", "Rejected options"]) {
              assert.match(doc, new RegExp(`^## ${section}$`, "m"))
            }
            assert.deepStrictEqual(
              toolResults(events)
                .filter((r) => r.isFailure)
                .map((r) => r.result._tag),
              ["PathRefused"]
            )
          })
      )
    })
  )

  it.live("the Mermaid check rejects a diagram that does not parse", () =>
    Effect.gen(function* () {
      const broken = mermaidBlocks(design)[0]!.replace("service api(server)[API]", "service api(server)[API")
      const exit = yield* Effect.exit(Effect.tryPromise(() => parse("architecture", broken)))
      assert.strictEqual(exit._tag, "Failure")
    })
  )
})
