// A structural check of a Bicep file, for machines without the Bicep compiler (it is a .NET
// program downloaded from Microsoft's servers, which this build machine cannot reach; npm has no
// offline build of it). It is NOT a compiler: it does not know resource schemas, types or the
// validity of property names. What it checks:
//   - brackets, braces and parentheses balance, strings and ${} interpolations close;
//   - every `resource` has a literal 'Namespace.Provider/type[/child...]@YYYY-MM-DD[-preview]';
//   - every identifier used in an expression is declared (param, var, resource, module, output,
//     a for-loop variable) or is a known keyword/namespace; function calls are not checked
//     against a list, but a declared symbol may not be called like a function (it would shadow
//     a built-in such as environment());
//   - every param and var is used; no symbol is declared twice;
//   - files named by loadTextContent / loadJsonContent / loadFileAsBase64 exist;
//   - no @secure() param reaches an output.
// Usage: node check-bicep.mjs FILE.bicep [--json]   (exit 0 clean, 1 problems, 2 usage)
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: node check-bicep.mjs FILE.bicep [--json]');
  process.exit(2);
}
const text = fs.readFileSync(file, 'utf8');
const problems = [];
const problem = (line, msg) => problems.push(`${file}:${line}: ${msg}`);

// ---- Lexer: identifiers, numbers, punctuation, strings (interpolations lexed inline), newlines.
const tokens = [];
let i = 0;
let line = 1;
const stack = []; // open brackets: { ch, line } ; '${' for an interpolation
const push = (t, v, extra = {}) => tokens.push({ t, v, line, ...extra });
const isIdStart = (c) => /[A-Za-z_]/.test(c);
const isId = (c) => /[A-Za-z0-9_]/.test(c);

function lexString() {
  // at the opening quote of a '...' string; returns when the string closes or an interpolation opens
  const start = line;
  i++; // opening quote
  let value = '';
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      value += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === "'") {
      i++;
      return { closed: true, value };
    }
    if (c === '$' && text[i + 1] === '{') {
      i += 2;
      return { closed: false, value };
    }
    if (c === '\n') {
      problem(start, 'string runs past the end of the line');
      return { closed: true, value };
    }
    value += c;
    i++;
  }
  problem(start, 'string never closes');
  return { closed: true, value };
}

function continueString() {
  // after the `}` closing an interpolation: read the rest of the string
  let value = '';
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') {
      value += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === "'") {
      i++;
      return { closed: true, value };
    }
    if (c === '$' && text[i + 1] === '{') {
      i += 2;
      return { closed: false, value };
    }
    if (c === '\n') {
      problem(line, 'string runs past the end of the line');
      return { closed: true, value };
    }
    value += c;
    i++;
  }
  problem(line, 'string never closes');
  return { closed: true, value };
}

while (i < text.length) {
  const c = text[i];
  if (c === '\n') {
    push('nl', '\n');
    line++;
    i++;
    continue;
  }
  if (c === ' ' || c === '\t' || c === '\r') {
    i++;
    continue;
  }
  if (c === '/' && text[i + 1] === '/') {
    while (i < text.length && text[i] !== '\n') i++;
    continue;
  }
  if (c === '/' && text[i + 1] === '*') {
    const end = text.indexOf('*/', i + 2);
    if (end < 0) {
      problem(line, 'comment never closes');
      break;
    }
    for (let k = i; k < end; k++) if (text[k] === '\n') line++;
    i = end + 2;
    continue;
  }
  if (text.startsWith("'''", i)) {
    const end = text.indexOf("'''", i + 3);
    if (end < 0) {
      problem(line, 'multi-line string never closes');
      break;
    }
    const value = text.slice(i + 3, end);
    push('str', value, { interpolated: false });
    for (const ch of value) if (ch === '\n') line++;
    i = end + 3;
    continue;
  }
  if (c === "'") {
    const r = lexString();
    if (r.closed) {
      push('str', r.value, { interpolated: false });
    } else {
      push('strstart', r.value);
      stack.push({ ch: '${', line });
    }
    continue;
  }
  if (c === '}' && stack.length && stack[stack.length - 1].ch === '${') {
    stack.pop();
    i++;
    const r = continueString();
    if (r.closed) {
      push('strend', r.value);
    } else {
      push('strmid', r.value);
      stack.push({ ch: '${', line });
    }
    continue;
  }
  if (isIdStart(c)) {
    let j = i;
    while (j < text.length && isId(text[j])) j++;
    push('id', text.slice(i, j));
    i = j;
    continue;
  }
  if (/[0-9]/.test(c)) {
    let j = i;
    while (j < text.length && /[0-9]/.test(text[j])) j++;
    push('num', text.slice(i, j));
    i = j;
    continue;
  }
  if ('{[('.includes(c)) {
    stack.push({ ch: c, line });
    push('punct', c);
    i++;
    continue;
  }
  if ('}])'.includes(c)) {
    const want = { '}': '{', ']': '[', ')': '(' }[c];
    const top = stack.pop();
    if (!top) problem(line, `'${c}' closes nothing`);
    else if (top.ch !== want) problem(line, `'${c}' closes '${top.ch}' opened on line ${top.line}`);
    push('punct', c);
    i++;
    continue;
  }
  const two = text.slice(i, i + 2);
  if (['==', '!=', '<=', '>=', '&&', '||', '??', '?.', '::', '=>', '.?'].includes(two)) {
    push('punct', two);
    i += 2;
    continue;
  }
  if ('=:,.?!<>+-*/%@|'.includes(c)) {
    push('punct', c);
    i++;
    continue;
  }
  problem(line, `unexpected character '${c}'`);
  i++;
}
for (const open of stack) problem(open.line, `'${open.ch}' is never closed`);

// ---- Declarations (at nesting depth 0).
const KEYWORDS = new Set([
  'param', 'var', 'resource', 'output', 'module', 'existing', 'if', 'for', 'in', 'true', 'false', 'null',
  'targetScope', 'metadata', 'import', 'type', 'func', 'with', 'as', 'string', 'int', 'bool', 'object', 'array',
  'any', 'az', 'sys',
]);
const declared = new Map(); // name -> { kind, line, secure }
const decls = [];
let depth = 0;
let pendingSecure = false;
for (let k = 0; k < tokens.length; k++) {
  const tok = tokens[k];
  if (tok.t === 'punct' && '{[('.includes(tok.v)) depth++;
  else if (tok.t === 'punct' && '}])'.includes(tok.v)) depth--;
  else if (tok.t === 'strstart') depth++;
  else if (tok.t === 'strend') depth--;
  if (depth !== 0 || tok.t !== 'id') continue;
  const prev = tokens[k - 1];
  if (prev && prev.t === 'punct' && prev.v === '@' && tok.v === 'secure') pendingSecure = true;
  if (!['param', 'var', 'resource', 'output', 'module', 'func', 'type'].includes(tok.v)) continue;
  if (prev && prev.t !== 'nl' && !(prev.t === 'punct' && prev.v === ')')) continue; // a declaration starts a line
  const name = tokens[k + 1];
  if (!name || name.t !== 'id') {
    problem(tok.line, `${tok.v} without a name`);
    continue;
  }
  if (tok.v !== 'output') {
    if (declared.has(name.v)) problem(name.line, `'${name.v}' is declared twice (first on line ${declared.get(name.v).line})`);
    declared.set(name.v, { kind: tok.v, line: name.line, secure: tok.v === 'param' && pendingSecure });
  }
  decls.push({ kind: tok.v, name: name.v, line: name.line, index: k + 1 });
  if (tok.v === 'param') pendingSecure = false;
  if (tok.v === 'resource' || tok.v === 'module') {
    const ty = tokens[k + 2];
    if (!ty || ty.t !== 'str') {
      problem(name.line, `${tok.v} '${name.v}' has no literal type string (interpolation is not allowed there)`);
    } else if (tok.v === 'resource' && !/^[A-Za-z0-9]+\.[A-Za-z0-9]+(\/[A-Za-z0-9]+)+@\d{4}-\d{2}-\d{2}(-preview)?$/.test(ty.v)) {
      problem(name.line, `resource '${name.v}': '${ty.v}' is not 'Namespace.Provider/type@YYYY-MM-DD'`);
    } else if (tok.v === 'module' && !fs.existsSync(path.resolve(path.dirname(file), ty.v))) {
      problem(name.line, `module '${name.v}': ${ty.v} does not exist`);
    }
    decls[decls.length - 1].type = ty && ty.v;
  }
}

// for-loop variables: `for x in` and `for (x, i) in`
for (let k = 0; k < tokens.length; k++) {
  if (tokens[k].t !== 'id' || tokens[k].v !== 'for') continue;
  if (tokens[k + 1]?.t === 'id') declared.set(tokens[k + 1].v, { kind: 'loop', line: tokens[k].line });
  if (tokens[k + 1]?.v === '(') {
    for (let m = k + 2; m < tokens.length && tokens[m].v !== ')'; m++) {
      if (tokens[m].t === 'id') declared.set(tokens[m].v, { kind: 'loop', line: tokens[m].line });
    }
  }
}

// ---- References.
const declIndex = new Set(decls.map((d) => d.index));
const uses = new Map();
const bracketStack = [];
let outputFrom = -1;
let outputName = '';
for (let k = 0; k < tokens.length; k++) {
  const tok = tokens[k];
  if (tok.t === 'punct' && '{[('.includes(tok.v)) bracketStack.push(tok.v);
  if (tok.t === 'punct' && '}])'.includes(tok.v)) bracketStack.pop();
  if (tok.t === 'strstart') bracketStack.push('${');
  if (tok.t === 'strend') bracketStack.pop();
  if (tok.t === 'id' && tok.v === 'output' && bracketStack.length === 0) {
    outputFrom = k;
    outputName = tokens[k + 1]?.v ?? '';
  }
  if (tok.t === 'nl' && bracketStack.length === 0) outputFrom = -1;
  if (tok.t !== 'id' || declIndex.has(k)) continue;
  const prev = tokens[k - 1];
  const next = tokens[k + 1];
  if (prev && prev.t === 'punct' && ['.', '?.', '::', '.?', '@'].includes(prev.v)) continue; // member, decorator
  if (next && next.t === 'punct' && next.v === ':' && bracketStack[bracketStack.length - 1] === '{' &&
      prev && (prev.t === 'nl' || (prev.t === 'punct' && (prev.v === '{' || prev.v === ',')))) continue; // object key
  if (next && next.t === 'punct' && next.v === '(') {
    if (declared.has(tok.v) && declared.get(tok.v).kind !== 'func') {
      problem(tok.line, `'${tok.v}' is called like a function but is declared as a ${declared.get(tok.v).kind}: it shadows the built-in`);
    }
    continue;
  }
  if (KEYWORDS.has(tok.v)) continue;
  if (!declared.has(tok.v)) {
    problem(tok.line, `'${tok.v}' is not declared`);
    continue;
  }
  uses.set(tok.v, (uses.get(tok.v) ?? 0) + 1);
  if (outputFrom >= 0 && declared.get(tok.v).secure) {
    problem(tok.line, `output '${outputName}' exposes the @secure() param '${tok.v}'`);
  }
}
for (const [name, d] of declared) {
  if ((d.kind === 'param' || d.kind === 'var') && !uses.get(name)) problem(d.line, `${d.kind} '${name}' is never used`);
}

// ---- Files loaded at compile time.
for (let k = 0; k < tokens.length; k++) {
  const tok = tokens[k];
  if (tok.t === 'id' && ['loadTextContent', 'loadJsonContent', 'loadFileAsBase64', 'loadYamlContent'].includes(tok.v)) {
    const arg = tokens[k + 2];
    if (!arg || arg.t !== 'str') {
      problem(tok.line, `${tok.v} needs a literal path`);
    } else if (!fs.existsSync(path.resolve(path.dirname(file), arg.v))) {
      problem(tok.line, `${tok.v}('${arg.v}'): no such file next to ${file}`);
    }
  }
}

const summary = {
  file,
  params: decls.filter((d) => d.kind === 'param').map((d) => d.name),
  vars: decls.filter((d) => d.kind === 'var').map((d) => d.name),
  resources: decls.filter((d) => d.kind === 'resource').map((d) => ({ name: d.name, type: d.type })),
  outputs: decls.filter((d) => d.kind === 'output').map((d) => d.name),
  problems,
};
if (args.includes('--json')) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  for (const p of problems) console.error(p);
  console.log(`check-bicep: ${summary.resources.length} resources, ${summary.params.length} params, ` +
    `${summary.vars.length} vars, ${summary.outputs.length} outputs, ${problems.length} problem(s)`);
}
process.exit(problems.length ? 1 : 0);
