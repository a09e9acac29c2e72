/**
 * The `designer` agent (`agents/designer.yaml`): a design brief with its flows and every screen's states, design
 * tokens, and SVG wireframes that a real XML parser accepts as SVG.
 */
import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { XMLParser, XMLValidator } from "fast-xml-parser"
import { call, calls, read, say, scenario, slow, tempDir, toolResults } from "./support.ts"

const brief = `# Sign-up: design brief

## Flow
1. A visitor opens the sign-up screen, enters an email and a password, and submits.
2. The account is created and the visitor lands on the welcome screen.

## Screens
### Sign-up (wireframes/sign-up.svg)
- Empty: the form with both fields blank and the button disabled.
- Loading: the button shows "Creating account..." and the fields are read-only.
- Error: the message above the form names the field, with an icon and text (never colour alone).

### Welcome (wireframes/welcome.svg)
- Empty: "No projects yet" with one button to create the first.
- Loading: a skeleton of the project list.
- Error: "Projects could not be loaded" with a retry button.
`

const tokens = {
  color: { text: "#1a1a1a", background: "#ffffff", accent: "#0b57d0", error: "#b3261e" },
  space: { s: 8, m: 16, l: 24 },
  type: { body: 16, heading: 24, scale: 1.25 }
}

const wireframe = (title: string, boxes: ReadonlyArray<string>) =>
  [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360 640" width="360" height="640" role="img" aria-labelledby="t">`,
    `  <title id="t">${title}</title>`,
    `  <rect x="0" y="0" width="360" height="640" fill="#ffffff" stroke="#1a1a1a"/>`,
    ...boxes.map(
      (label, i) =>
        `  <g><rect x="24" y="${80 + i * 72}" width="312" height="48" fill="none" stroke="#1a1a1a"/><text x="36" y="${110 + i * 72}" font-size="16">${label}</text></g>`
    ),
    "</svg>",
    ""
  ].join("\n")

// WCAG relative luminance and contrast ratio of two #rrggbb colours.
const luminance = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  })
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi! + 0.05) / (lo! + 0.05)
}

describe("designer agent", slow, () => {
  it.live("writes a brief with every screen's states, tokens, and SVG wireframes that parse as SVG", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir("designer")
      writeFileSync(
        join(dir, "requirements.md"),
        "People sign up with an email and a password, then see their projects.\n"
      )
      yield* scenario(
        "designer",
        [
          call("fs_read", { path: "requirements.md" }),
          calls(
            ["fs_write", { path: "design/brief.md", content: brief }],
            ["fs_write", { path: "design/tokens.json", content: JSON.stringify(tokens, null, 2) }],
            [
              "fs_write",
              {
                path: "design/wireframes/sign-up.svg",
                content: wireframe("Sign-up", ["Email", "Password", "Create account"])
              }
            ],
            [
              "fs_write",
              {
                path: "design/wireframes/welcome.svg",
                content: wireframe("Welcome", ["Your projects", "No projects yet", "Create a project"])
              }
            ]
          ),
          // Outside design/ is not the designer's to write.
          call("fs_write", { path: "web/index.html", content: "<p>not mine</p>" }),
          say("The brief, tokens and two wireframes are in design/.")
        ],
        { dir },
        ({ agent, events }) =>
          Effect.gen(function* () {
            yield* agent.run("Design the sign-up flow")
            const svgs = readdirSync(join(dir, "design/wireframes"))
            assert.deepStrictEqual(svgs.toSorted(), ["sign-up.svg", "welcome.svg"])
            const parser = new XMLParser({ ignoreAttributes: false })
            for (const file of svgs) {
              const text = read(dir, `design/wireframes/${file}`)
              assert.strictEqual(XMLValidator.validate(text), true, file)
              const svg = parser.parse(text).svg
              assert.strictEqual(svg["@_xmlns"], "http://www.w3.org/2000/svg", file)
              assert.match(svg["@_viewBox"], /^0 0 \d+ \d+$/, file)
              assert.isString(svg.title["#text"], file)
            }
            // Every screen of the brief has its wireframe and its empty, loading and error states.
            const written = read(dir, "design/brief.md")
            const screens = written.split("\n### ").slice(1)
            assert.strictEqual(screens.length, 2)
            for (const screen of screens) {
              const wire = /\(wireframes\/(.+\.svg)\)/.exec(screen)![1]!
              assert.include(svgs, wire)
              for (const state of ["Empty", "Loading", "Error"]) assert.match(screen, new RegExp(`^- ${state}: `, "m"))
            }
            // Tokens parse, and body text meets WCAG AA contrast on the background.
            const parsed = JSON.parse(read(dir, "design/tokens.json"))
            assert.isAtLeast(contrast(parsed.color.text, parsed.color.background), 4.5)
            assert.isAtLeast(contrast(parsed.color.error, parsed.color.background), 4.5)
            const refused = toolResults(events).filter((r) => r.isFailure)
            assert.deepStrictEqual(
              refused.map((r) => r.result._tag),
              ["PathRefused"]
            )
          })
      )
    })
  )

  it("the SVG check rejects a wireframe that is not well-formed", () => {
    const broken = wireframe("Broken", ["Email"]).replace("</g>", "")
    assert.notStrictEqual(XMLValidator.validate(broken), true)
  })
})
