/**
 * vnet's own lint rules (an ESLint plugin, loaded by eslint.config.js):
 * - `stage-order`: a stage imports only from the stages before it, in pipeline order (STYLE.md):
 *   grammar -> diagnostics -> syntax -> ops -> semantics -> ir -> backends -> runtime/data/weights
 *   -> cli/lsp/prettier -> the package entry (src/index.ts). Folders of one stage may import each
 *   other (without cycles). Type-only imports count too: a stage does not even name what a later
 *   one defines.
 * - `no-import-cycle`: no cycle among the static value imports of src/, grammar/, scripts/ and
 *   bench/ (type-only imports vanish at run time; `import()` is how a module loads a later one
 *   lazily and does not count). Reported at the import that enters the cycle, with the cycle.
 * - `restricted-packages`: tfjs is imported (for values) only under src/backends/tfjs and the
 *   runtime stage; the protobuf library only under src/backends/onnx; ONNX Runtime only in the
 *   runtime stage.
 * Written in plain JavaScript so ESLint loads it without a build step.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

/** Stages in pipeline order; the folders (or top-level files) of src/ in each. */
export const STAGES = [
  ["grammar"],
  ["diagnostics", "version"],
  ["syntax"],
  ["ops"],
  ["semantics"],
  ["ir"],
  ["backends"],
  ["runtime", "data", "weights", "vis"],
  ["cli", "lsp", "prettier"],
  ["index"],
];

const ORDER = STAGES.map((s) => s.join("/")).join(" -> ");

function rootOf(file) {
  let dir = path.dirname(file);
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return dir;
}

/** The stage part of a file (`ir`, `backends`, `grammar`, `version`), or undefined outside the pipeline (tests, scripts, bench). */
export function partOf(root, file) {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === "grammar") return "grammar";
  if (rel[0] !== "src" || rel.length < 2) return undefined;
  return rel.length === 2 ? rel[1].replace(/\.ts$/, "") : rel[1];
}

function rankOf(part) {
  const rank = STAGES.findIndex((s) => s.includes(part));
  return rank < 0 ? undefined : rank;
}

/** `./x.js` from `file` to the .ts file it names, or undefined for a package. */
function resolveImport(file, specifier) {
  if (!specifier.startsWith(".")) return undefined;
  const target = path.resolve(path.dirname(file), specifier);
  for (const candidate of [target.replace(/\.js$/, ".ts"), target, `${target}.ts`, path.join(target, "index.ts")]) {
    if (candidate.endsWith(".ts") && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The module specifiers of a file's import and export-from declarations with whether they are type-only. */
function declaredImports(sourceFile) {
  const found = [];
  for (const statement of sourceFile.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            clause.namedBindings &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      found.push({ specifier: statement.moduleSpecifier.text, typeOnly: Boolean(typeOnly) });
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      found.push({ specifier: statement.moduleSpecifier.text, typeOnly: statement.isTypeOnly });
    }
  }
  return found;
}

const graphs = new Map();

/** The value-import graph of the project's TypeScript (built once per lint run) and its cycles. */
function importGraph(root) {
  if (graphs.has(root)) return graphs.get(root);
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(full);
    }
  };
  for (const top of ["src", "grammar", "scripts", "bench"]) if (fs.existsSync(path.join(root, top))) walk(path.join(root, top));
  const edges = new Map();
  for (const file of files) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
    edges.set(
      file,
      declaredImports(source)
        .filter((i) => !i.typeOnly)
        .map((i) => resolveImport(file, i.specifier))
        .filter(Boolean),
    );
  }
  // Tarjan's strongly connected components: a component of two or more files is a cycle.
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const component = new Map();
  let counter = 0;
  const connect = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const members = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      const set = new Set(members);
      for (const m of members) component.set(m, set);
    }
  };
  for (const file of files) if (!index.has(file)) connect(file);
  const graph = { edges, component };
  graphs.set(root, graph);
  return graph;
}

/** A shortest path of imports from `from` back to `to` inside one component. */
function cyclePath(graph, from, to, members) {
  const previous = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length) {
    const v = queue.shift();
    if (v === to) break;
    for (const w of graph.edges.get(v) ?? []) {
      if (members.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  const chain = [];
  for (let v = to; v !== undefined; v = previous.get(v)) chain.unshift(v);
  return chain;
}

function importNodes(context, visit) {
  const check = (node) => {
    if (node.source && node.source.type === "Literal" && typeof node.source.value === "string")
      visit(node, node.source.value, node.importKind === "type" || node.exportKind === "type", false);
  };
  return {
    ImportDeclaration: check,
    ExportNamedDeclaration: check,
    ExportAllDeclaration: check,
    ImportExpression(node) {
      if (node.source.type === "Literal" && typeof node.source.value === "string") visit(node, node.source.value, false, true);
    },
  };
}

const stageOrder = {
  meta: { type: "problem", docs: { description: "a stage imports only from the stages before it" }, schema: [] },
  create(context) {
    const file = context.filename;
    const root = rootOf(file);
    const part = root && partOf(root, file);
    const rank = part && rankOf(part);
    if (rank === undefined) return {};
    return importNodes(context, (node, specifier) => {
      const target = resolveImport(file, specifier);
      const targetPart = target && partOf(root, target);
      const targetRank = targetPart && rankOf(targetPart);
      if (targetRank !== undefined && targetRank > rank) {
        context.report({
          node,
          message: `${part} imports ${path.relative(root, target)} of the later stage ${targetPart}; a stage imports only from the stages before it (${ORDER})`,
        });
      }
    });
  },
};

const noImportCycle = {
  meta: { type: "problem", docs: { description: "no cycle among static value imports" }, schema: [] },
  create(context) {
    const file = context.filename;
    const root = rootOf(file);
    if (!root) return {};
    const graph = importGraph(root);
    const members = graph.component.get(file);
    if (!members || members.size < 2) return {};
    return importNodes(context, (node, specifier, typeOnly, dynamic) => {
      if (typeOnly || dynamic) return;
      const target = resolveImport(file, specifier);
      if (!target || !members.has(target)) return;
      const chain = [file, ...cyclePath(graph, target, file, members)].map((f) => path.relative(root, f));
      context.report({ node, message: `import cycle: ${chain.join(" -> ")}` });
    });
  },
};

/** Packages and the stages (or folders) that may import them for their values. */
const PACKAGE_HOMES = [
  { pattern: /^@tensorflow\//, homes: ["src/backends/tfjs", "src/runtime", "src/data", "src/weights", "src/vis"], what: "tfjs" },
  { pattern: /^(onnx-proto|protobufjs)(\/|$)/, homes: ["src/backends/onnx"], what: "the protobuf library" },
  { pattern: /^onnxruntime-node(\/|$)/, homes: ["src/runtime", "src/data", "src/weights", "src/vis"], what: "ONNX Runtime" },
];

const restrictedPackages = {
  meta: { type: "problem", docs: { description: "heavy libraries stay in the stage that owns them" }, schema: [] },
  create(context) {
    const file = context.filename;
    const root = rootOf(file);
    if (!root) return {};
    const rel = path.relative(root, file).split(path.sep).join("/");
    if (!rel.startsWith("src/")) return {};
    return importNodes(context, (node, specifier, typeOnly) => {
      if (typeOnly) return;
      const rule = PACKAGE_HOMES.find((p) => p.pattern.test(specifier));
      if (rule && !rule.homes.some((home) => rel.startsWith(`${home}/`))) {
        context.report({
          node,
          message: `${rel} imports ${specifier}; ${rule.what} is imported only under ${rule.homes.join(", ")} (other stages go through them, or import types only)`,
        });
      }
    });
  },
};

export default { meta: { name: "vnet" }, rules: { "stage-order": stageOrder, "no-import-cycle": noImportCycle, "restricted-packages": restrictedPackages } };
