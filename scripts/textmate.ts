/**
 * The template of grammar/vnet.tmLanguage.json. The structure lives here; the word lists
 * (keywords, operator names, expression functions, section names, network properties) are filled
 * in from grammar/tokens.ts, src/ops/catalogue.ts and src/semantics/sections.ts, so an operator
 * added to the catalogue is highlighted without anyone touching the grammar.
 */

/** The word lists the grammar is built from. */
export interface TextMateVocabulary {
  readonly keywords: readonly string[];
  readonly operators: readonly string[];
  readonly functions: readonly string[];
  /** Section names (`sampling`, `training`) and the names of sections nested in them (`train`, `test`). */
  readonly sections: readonly string[];
  /** Special network bindings (`classes`, `class_names`, `description`). */
  readonly properties: readonly string[];
}

/**
 * Scope of each keyword. Every keyword of grammar/tokens.ts must be listed, so a new keyword
 * cannot silently go unhighlighted.
 */
const KEYWORD_SCOPES: Readonly<Record<string, string>> = {
  import: "keyword.control.import.vnet",
  from: "keyword.control.import.vnet",
  block: "storage.type.block.vnet",
  network: "storage.type.network.vnet",
  input: "keyword.other.input.vnet",
  stream: "keyword.other.stream.vnet",
  output: "keyword.other.output.vnet",
  inflate: "keyword.other.inflate.vnet",
  for: "keyword.control.loop.vnet",
  in: "keyword.control.loop.vnet",
  if: "keyword.control.conditional.vnet",
  then: "keyword.control.conditional.vnet",
  else: "keyword.control.conditional.vnet",
  as: "keyword.other.as.vnet",
  and: "keyword.operator.logical.vnet",
  or: "keyword.operator.logical.vnet",
  not: "keyword.operator.logical.vnet",
  true: "constant.language.boolean.vnet",
  false: "constant.language.boolean.vnet",
};

const IDENT = "[A-Za-z_][A-Za-z0-9_]*";

/** `\b(?:a|b)\b` with longer words first, so no alternative can stop at a shorter prefix. */
function wordAlternation(words: readonly string[]): string {
  const sorted = [...new Set(words)].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  return `\\b(?:${sorted.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})\\b`;
}

/** Builds the TextMate grammar object; throws when a keyword has no scope or a scope no keyword. */
export function buildTextMateGrammar(vocabulary: TextMateVocabulary, comment: string): Record<string, unknown> {
  const missing = vocabulary.keywords.filter((k) => !(k in KEYWORD_SCOPES));
  const stale = Object.keys(KEYWORD_SCOPES).filter((k) => !vocabulary.keywords.includes(k));
  if (missing.length || stale.length) {
    throw new Error(`scripts/textmate.ts KEYWORD_SCOPES is out of date: missing ${missing.join(", ") || "none"}; not keywords ${stale.join(", ") || "none"}`);
  }
  const byScope = new Map<string, string[]>();
  for (const keyword of vocabulary.keywords) {
    const scope = KEYWORD_SCOPES[keyword]!;
    byScope.set(scope, [...(byScope.get(scope) ?? []), keyword]);
  }
  const keywordPatterns = [...byScope].map(([scope, words]) => ({ match: wordAlternation(words), name: scope }));

  const operatorNames = wordAlternation(vocabulary.operators);
  const functionNames = wordAlternation(vocabulary.functions);
  const sectionNames = wordAlternation(vocabulary.sections);
  const propertyNames = wordAlternation(vocabulary.properties);

  return {
    $schema: "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
    comment,
    name: "vnet",
    scopeName: "source.vnet",
    fileTypes: ["vnet"],
    patterns: [
      { include: "#comments" },
      { include: "#block-declaration" },
      { include: "#network-declaration" },
      { include: "#inflate-declaration" },
      { include: "#section" },
      { include: "#input-stream-declaration" },
      { include: "#binding" },
      { include: "#expression" },
    ],
    repository: {
      comments: {
        patterns: [
          {
            name: "comment.block.vnet",
            begin: "/\\*",
            end: "\\*/",
            beginCaptures: { "0": { name: "punctuation.definition.comment.begin.vnet" } },
            endCaptures: { "0": { name: "punctuation.definition.comment.end.vnet" } },
          },
          {
            match: "(//).*$",
            name: "comment.line.double-slash.vnet",
            captures: { "1": { name: "punctuation.definition.comment.vnet" } },
          },
        ],
      },
      strings: {
        comment: "A string ends at its closing quote or, unterminated, at the end of the line (as the lexer does).",
        name: "string.quoted.double.vnet",
        begin: '"',
        end: '(")|((?:[^\\\\\\n])$)',
        beginCaptures: { "0": { name: "punctuation.definition.string.begin.vnet" } },
        endCaptures: {
          "1": { name: "punctuation.definition.string.end.vnet" },
          "2": { name: "invalid.illegal.newline.vnet" },
        },
        patterns: [{ match: "\\\\.", name: "constant.character.escape.vnet" }],
      },
      numbers: {
        comment: "grammar/tokens.ts NumberLiteral: no sign, optional fraction and exponent; `0..3` is two numbers and a range.",
        match: "\\b\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b",
        name: "constant.numeric.vnet",
      },
      keywords: { patterns: keywordPatterns },
      "block-declaration": {
        comment: "block name(p1, p2 = default) — the name is a function; parameter names are parameters.",
        name: "meta.block.declaration.vnet",
        begin: `\\b(block)\\s+(${IDENT})\\s*(\\()`,
        end: "\\)",
        beginCaptures: {
          "1": { name: "storage.type.block.vnet" },
          "2": { name: "entity.name.function.vnet" },
          "3": { name: "punctuation.definition.parameters.begin.vnet" },
        },
        endCaptures: { "0": { name: "punctuation.definition.parameters.end.vnet" } },
        patterns: [
          { include: "#comments" },
          { match: `(?:^|(?<=[(,]))\\s*(${IDENT})`, captures: { "1": { name: "variable.parameter.vnet" } } },
          { include: "#expression" },
        ],
      },
      "network-declaration": {
        match: `\\b(network)\\s+(${IDENT})`,
        captures: {
          "1": { name: "storage.type.network.vnet" },
          "2": { name: "entity.name.type.vnet" },
        },
      },
      "inflate-declaration": {
        comment: 'inflate source2d { init = "repeat"  "glob" { kernel = 3 } } — settings, then per-layer rules keyed by a glob.',
        name: "meta.inflate.vnet",
        begin: `\\b(inflate)\\s+(${IDENT})\\s*(\\{)`,
        end: "\\}",
        beginCaptures: {
          "1": { name: "keyword.other.inflate.vnet" },
          "2": { name: "entity.name.type.vnet" },
          "3": { name: "punctuation.section.block.begin.vnet" },
        },
        endCaptures: { "0": { name: "punctuation.section.block.end.vnet" } },
        patterns: [{ include: "#comments" }, { include: "#inflation-rule" }, { include: "#setting" }, { include: "#expression" }],
      },
      "inflation-rule": {
        name: "meta.inflation-rule.vnet",
        begin: '("(?:[^"\\\\]|\\\\.)*")\\s*(\\{)',
        end: "\\}",
        beginCaptures: {
          "1": { name: "string.regexp.glob.vnet" },
          "2": { name: "punctuation.section.block.begin.vnet" },
        },
        endCaptures: { "0": { name: "punctuation.section.block.end.vnet" } },
        patterns: [{ include: "#comments" }, { include: "#setting" }, { include: "#expression" }],
      },
      section: {
        comment: "A data section (sampling, training) or one nested in it (train, test), at a statement start.",
        name: "meta.section.vnet",
        begin: `(?:^|(?<=[{},]))\\s*(${sectionNames})\\s*(\\{)`,
        end: "\\}",
        beginCaptures: {
          "1": { name: "entity.name.section.vnet" },
          "2": { name: "punctuation.section.block.begin.vnet" },
        },
        endCaptures: { "0": { name: "punctuation.section.block.end.vnet" } },
        patterns: [{ include: "#comments" }, { include: "#section" }, { include: "#setting" }, { include: "#expression" }],
      },
      setting: {
        comment: "key = value inside a section or inflation rule.",
        match: `\\b(${IDENT})\\s*(=)(?!=)`,
        captures: {
          "1": { name: "variable.other.property.vnet" },
          "2": { name: "keyword.operator.assignment.vnet" },
        },
      },
      "input-stream-declaration": {
        match: `\\b(input|stream)\\s+(${IDENT})`,
        captures: {
          "1": { patterns: [{ include: "#keywords" }] },
          "2": { name: "entity.name.variable.vnet" },
        },
      },
      binding: {
        comment: "x = ... and a, b = ... at the start of a line; network properties (classes, ...) are language variables.",
        match: `^\\s*(${IDENT}(?:\\s*,\\s*${IDENT})*)\\s*(=)(?!=)`,
        captures: {
          "1": {
            patterns: [
              { match: propertyNames, name: "variable.language.vnet" },
              { match: IDENT, name: "entity.name.variable.vnet" },
              { match: ",", name: "punctuation.separator.comma.vnet" },
            ],
          },
          "2": { name: "keyword.operator.assignment.vnet" },
        },
      },
      expression: {
        patterns: [
          { include: "#comments" },
          { include: "#strings" },
          { include: "#numbers" },
          { include: "#for-loop" },
          { include: "#layer-name" },
          { include: "#keywords" },
          { include: "#call" },
          { include: "#operator-names" },
          { include: "#properties" },
          { include: "#member" },
          { include: "#operators" },
          { include: "#list" },
          { include: "#parens" },
          { include: "#punctuation" },
          { include: "#identifier" },
        ],
      },
      "for-loop": {
        match: `\\b(for)\\s+(${IDENT})\\s+(in)\\b`,
        captures: {
          "1": { name: "keyword.control.loop.vnet" },
          "2": { name: "variable.other.loop.vnet" },
          "3": { name: "keyword.control.loop.vnet" },
        },
      },
      "layer-name": {
        comment: "-> op(...) as name: the layer's name in the hierarchy.",
        match: `\\b(as)\\s+(${IDENT})`,
        captures: {
          "1": { name: "keyword.other.as.vnet" },
          "2": { name: "entity.name.label.layer.vnet" },
        },
      },
      call: {
        comment: "name(...): a catalogue operator, an expression function, or a block; named arguments inside are parameters.",
        name: "meta.function-call.vnet",
        begin: `\\b(${IDENT})\\s*(\\()`,
        end: "\\)",
        beginCaptures: {
          "1": {
            patterns: [
              { match: operatorNames, name: "support.function.vnet" },
              { match: functionNames, name: "support.function.builtin.vnet" },
              { match: IDENT, name: "entity.name.function.call.vnet" },
            ],
          },
          "2": { name: "punctuation.definition.arguments.begin.vnet" },
        },
        endCaptures: { "0": { name: "punctuation.definition.arguments.end.vnet" } },
        patterns: [{ include: "#named-argument" }, { include: "#expression" }],
      },
      "named-argument": {
        match: `\\b(${IDENT})\\s*(=)(?!=)`,
        captures: {
          "1": { name: "variable.parameter.vnet" },
          "2": { name: "keyword.operator.assignment.vnet" },
        },
      },
      "operator-names": {
        comment: "Catalogue operators used without arguments: -> bn -> relu.",
        match: operatorNames,
        name: "support.function.vnet",
      },
      properties: { match: propertyNames, name: "variable.language.vnet" },
      member: {
        comment: "x.channels, x.frames, ...; `..` is the range operator, not a member access.",
        match: `(?<!\\.)(\\.)(?!\\.)\\s*(${IDENT})`,
        captures: {
          "1": { name: "punctuation.accessor.vnet" },
          "2": { name: "variable.other.property.vnet" },
        },
      },
      operators: {
        patterns: [
          { match: "->", name: "keyword.operator.arrow.vnet" },
          { match: "\\.\\.", name: "keyword.operator.range.vnet" },
          { match: "==|!=|<=|>=|<|>", name: "keyword.operator.comparison.vnet" },
          { match: "\\*\\*|[*/%+-]", name: "keyword.operator.arithmetic.vnet" },
          { match: "=", name: "keyword.operator.assignment.vnet" },
        ],
      },
      list: {
        name: "meta.list.vnet",
        begin: "\\[",
        end: "\\]",
        beginCaptures: { "0": { name: "punctuation.definition.list.begin.vnet" } },
        endCaptures: { "0": { name: "punctuation.definition.list.end.vnet" } },
        patterns: [{ include: "#expression" }],
      },
      parens: {
        begin: "\\(",
        end: "\\)",
        beginCaptures: { "0": { name: "punctuation.parenthesis.begin.vnet" } },
        endCaptures: { "0": { name: "punctuation.parenthesis.end.vnet" } },
        patterns: [{ include: "#expression" }],
      },
      punctuation: {
        patterns: [
          { match: ",", name: "punctuation.separator.comma.vnet" },
          { match: "\\{", name: "punctuation.section.block.begin.vnet" },
          { match: "\\}", name: "punctuation.section.block.end.vnet" },
        ],
      },
      identifier: { match: IDENT, name: "variable.other.readwrite.vnet" },
    },
  };
}
