/**
 * Synthetic, deterministic corpora for the memory benchmark.
 *
 * `labelledSet` builds facts about made-up organisations (ten attributes each) and paraphrased questions whose
 * answer is exactly one fact: the retrieval-quality set. Questions come in three flavours so that neither lexical nor
 * vector search wins by construction:
 * - paraphrase: the attribute is asked about in other words ("head office" for "headquartered");
 * - typo: the organisation's name is misspelt (lexical search loses the name, character n-grams keep most of it);
 * - reverse: the question names the attribute's value and asks for the organisation ("Which company is based in X?").
 *
 * `scaleTexts` yields many distinct memory-like sentences for the latency runs.
 */

import { SeededRandom } from "@troupe/providers/testing"

/** A seeded PRNG (mulberry32): the same seed gives the same corpus on every machine. */
export const prng = SeededRandom.make

const syllables =
  "ka lo mi ve tra zor qui nel dro fa shu ren bal tik mor vas pel gri hon dul sae ryn ost cal bex wim jor tal fen ulm".split(
    " "
  )

const suffixes = ["Industries", "Labs", "Systems", "Works", "Dynamics", "Group", "Collective", "Analytics"]
const cities = (
  "Quenlar Ostheim Varrow Delmont Pyrelia Sunhaven Kaldor Brisk Tamsen Orvale Yarrowby Ketterin Lumos Harnfeld " +
  "Ravensmoor Ashcombe Westerly Malvane Cindral Porthwick"
).split(" ")
const products = [
  "solar inverters",
  "medical imaging software",
  "warehouse robots",
  "payroll services",
  "electric ferries",
  "satellite antennas",
  "coffee roasting machines",
  "fraud detection models",
  "modular greenhouses",
  "hearing aids",
  "bicycle gearboxes",
  "weather radars"
]
const languages = ["Rust", "Go", "Haskell", "Elixir", "Kotlin", "OCaml", "Zig", "Scala", "Clojure", "Erlang"]
const causes = [
  "an expired TLS certificate",
  "a full disk on the database server",
  "a misconfigured load balancer",
  "a runaway cron job",
  "a DNS outage at their registrar",
  "a memory leak in the billing service",
  "a flooded data centre",
  "a bad schema migration"
]
const colours = ["teal", "crimson", "ochre", "indigo", "silver", "amber", "olive", "magenta"]
const firstNames = "Mira Talvek Joren Asha Ilse Bram Nadia Osric Priya Tomas Yuki Lena Dario Femi Greta Hugo".split(" ")
const lastNames = "Quist Varga Okafor Lindqvist Moreau Tanaka Brennan Haddad Novak Silva Adeyemi Kowal".split(" ")

const pick = <A>(rand: () => number, xs: ReadonlyArray<A>): A => xs[Math.floor(rand() * xs.length)]!

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

const entityName = (rand: () => number, used: Set<string>): string => {
  for (;;) {
    const word = cap(pick(rand, syllables) + pick(rand, syllables) + pick(rand, syllables))
    const name = `${word} ${pick(rand, suffixes)}`
    if (!used.has(word)) {
      used.add(word)
      return name
    }
  }
}

const person = (rand: () => number) => `${pick(rand, firstNames)} ${pick(rand, lastNames)}`

// One character dropped or two swapped inside the first word of the name.
const typo = (rand: () => number, name: string): string => {
  const [word, ...rest] = name.split(" ")
  const w = word!
  const i = 1 + Math.floor(rand() * (w.length - 2))
  const misspelt = rand() < 0.5 ? w.slice(0, i) + w.slice(i + 1) : w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2)
  return [misspelt, ...rest].join(" ")
}

interface Attribute {
  readonly fact: (e: string) => { text: string; value: string }
  readonly ask: ReadonlyArray<(e: string) => string>
  readonly reverse: (value: string) => string
}

const attributes = (rand: () => number, names: ReadonlyArray<string>): ReadonlyArray<Attribute> => [
  {
    fact: (e) => {
      const v = pick(rand, cities)
      return { text: `${e} is headquartered in the city of ${v}.`, value: v }
    },
    ask: [(e) => `Where is the head office of ${e}?`, (e) => `Which city hosts the headquarters of ${e}?`],
    reverse: (v) => `Which organisation has its headquarters in ${v}?`
  },
  {
    fact: (e) => {
      const v = person(rand)
      return { text: `${e} was founded by ${v} in ${1950 + Math.floor(rand() * 70)}.`, value: v }
    },
    ask: [(e) => `Who started ${e}?`, (e) => `Who is the founder of ${e}?`],
    reverse: (v) => `Which company did ${v} found?`
  },
  {
    fact: (e) => {
      const v = pick(rand, products)
      return { text: `${e} builds ${v} for export markets.`, value: v }
    },
    ask: [(e) => `What does ${e} build?`, (e) => `Which products are built by ${e}?`],
    reverse: (v) => `Who builds ${v}?`
  },
  {
    fact: (e) => {
      const v = String(20 + Math.floor(rand() * 4000))
      return { text: `${e} employs about ${v} engineers across three offices.`, value: v }
    },
    ask: [(e) => `How many engineers are employed at ${e}?`, (e) => `What is the engineering headcount of ${e}?`],
    reverse: (v) => `Which firm employs about ${v} engineers?`
  },
  {
    fact: (e) => {
      const v = pick(rand, causes)
      return { text: `Last year ${e} suffered an outage caused by ${v}.`, value: v }
    },
    ask: [(e) => `What caused the outage at ${e}?`, (e) => `Why did ${e} suffer downtime last year?`],
    reverse: (v) => `Which company had an outage caused by ${v}?`
  },
  {
    fact: (e) => {
      const v = pick(rand, names)
      return { text: `${e} signed a partnership agreement with ${v}.`, value: v }
    },
    ask: [(e) => `Who is ${e} partnering with?`, (e) => `Which partner signed an agreement with ${e}?`],
    reverse: (v) => `Which organisation signed a partnership agreement with ${v}?`
  },
  {
    fact: (e) => {
      const v = person(rand)
      return { text: `The current chief executive of ${e} is ${v}.`, value: v }
    },
    ask: [(e) => `Who runs ${e} as chief executive?`, (e) => `Who is the CEO, the chief executive, of ${e}?`],
    reverse: (v) => `Where is ${v} the chief executive?`
  },
  {
    fact: (e) => {
      const v = pick(rand, languages)
      return { text: `The backend services of ${e} are written in ${v}.`, value: v }
    },
    ask: [
      (e) => `Which programming language does ${e} write its backend in?`,
      (e) => `What is the backend of ${e} written in?`
    ],
    reverse: (v) => `Whose backend services are written in ${v}?`
  },
  {
    fact: (e) => {
      const v = pick(rand, colours)
      return { text: `The logo of ${e} is a ${v} circle.`, value: v }
    },
    ask: [(e) => `What colour is the logo of ${e}?`, (e) => `Describe the logo colours of ${e}.`],
    reverse: (v) => `Which company has a ${v} circle as its logo?`
  },
  {
    fact: (e) => {
      const v = pick(rand, cities)
      return { text: `${e} opened a new research laboratory in ${v} this spring.`, value: v }
    },
    ask: [
      (e) => `Where did ${e} open its research lab?`,
      (e) => `In which city is the new research laboratory of ${e}?`
    ],
    reverse: (v) => `Who opened a research laboratory in ${v}?`
  }
]

/** A document of the labelled set. */
export interface Doc {
  readonly key: string
  readonly text: string
}

/** A question and the key of the one document that answers it. */
export interface Question {
  readonly query: string
  readonly answer: string
  readonly flavour: "paraphrase" | "typo" | "reverse"
}

/** Facts about `entities` organisations and `questions` labelled questions about them. */
export const labelledSet = (entities = 300, questions = 300, seed = 7) => {
  const rand = prng(seed)
  const used = new Set<string>()
  const names = Array.from({ length: entities }, () => entityName(rand, used))
  const attrs = attributes(rand, names)
  const docs: Array<Doc> = []
  const values = new Map<string, string>()
  const valueCount = new Map<string, number>()
  names.forEach((name, e) => {
    attrs.forEach((attr, a) => {
      const { text, value } = attr.fact(name)
      const key = `${e}:${a}`
      docs.push({ key, text })
      values.set(key, value)
      valueCount.set(`${a}:${value}`, (valueCount.get(`${a}:${value}`) ?? 0) + 1)
    })
  })
  const qs: Array<Question> = []
  while (qs.length < questions) {
    const e = Math.floor(rand() * entities)
    const roll = rand()
    // Reverse questions ask about values that few organisations share: founders, headcounts, chief executives.
    const a = roll < 0.25 ? pick(rand, [1, 3, 6]) : Math.floor(rand() * attrs.length)
    const key = `${e}:${a}`
    const attr = attrs[a]!
    if (roll < 0.25) {
      const value = values.get(key)!
      // A reverse question needs a unique answer: only values held by one organisation.
      if (valueCount.get(`${a}:${value}`) !== 1) continue
      qs.push({ query: attr.reverse(value), answer: key, flavour: "reverse" })
    } else if (roll < 0.5) {
      qs.push({ query: pick(rand, attr.ask)(typo(rand, names[e]!)), answer: key, flavour: "typo" })
    } else {
      qs.push({ query: pick(rand, attr.ask)(names[e]!), answer: key, flavour: "paraphrase" })
    }
  }
  return { docs, questions: qs }
}

const verbs = ["deployed", "rolled back", "profiled", "migrated", "patched", "benchmarked", "reviewed", "monitored"]
const things = [
  "the billing service",
  "the search cluster",
  "the mobile gateway",
  "the nightly export job",
  "the auth proxy",
  "the image resizer",
  "the metrics pipeline",
  "the ledger database"
]
const outcomes = [
  "and latency dropped by half",
  "but the error rate went up",
  "after fixing a race condition",
  "and the tests passed on the second try",
  "while the cache was cold",
  "without any customer impact"
]

/** `count` distinct memory-like sentences, each naming a made-up organisation and a run number. */
export const scaleTexts = (count: number, seed = 11): Array<string> => {
  const rand = prng(seed)
  const used = new Set<string>()
  const names = Array.from({ length: 2000 }, () => entityName(rand, used))
  return Array.from(
    { length: count },
    (_, i) =>
      `Run ${i}: we ${pick(rand, verbs)} ${pick(rand, things)} for ${pick(rand, names)} in ${pick(rand, cities)} ${pick(rand, outcomes)}.`
  )
}
