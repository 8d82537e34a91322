/**
 * The lint rule `tsaio/pass-signal`: a signal in scope that a call could
 * take, and is not given.
 *
 * A timeout, a `waitFor` or a cancelled task stops only the work that listens
 * to its signal: `await timeout(50, async () => { await setTimeout(1000) })`
 * still takes a second, because the timer never heard of the signal (the
 * timeout waits for its work to stop, so it waits for the timer). This rule
 * finds those calls before they run: inside a function that has an
 * `AbortSignal` in scope (a parameter of that type, or a destructured
 * `{ signal }` of it), a call to a function whose parameters accept one —
 * as a parameter of type `AbortSignal`, or as `signal` in an options object:
 * `fetch`, undici, `setTimeout` of `node:timers/promises`, tsaio's waits,
 * `events.once`, `stream.pipeline`, ... — made without passing it, is
 * reported, with a suggestion that passes it. It needs type information
 * (typescript-eslint's `projectService`); without it, it reports nothing.
 *
 * Left alone: calls in a `catch` or `finally` block (cleanup runs after the
 * signal may have aborted, and must not be given it), `*Sync` calls (they
 * block, and cannot be cancelled), calls on the signal itself, and spread
 * arguments. An argument given where the signal goes is left alone too: the caller chose
 * (`fetchOne(url, undefined)`, `fetch(url, init)` with `init` a `RequestInit`
 * that has a `signal` of its own). Only an object literal without `signal`,
 * or an options value whose type has no `signal`, is reported.
 *
 * @module
 */

import type * as ts from 'typescript';

/** An ESLint rule, in the shape flat config takes (`Rule.RuleModule`). */
export interface LintRule {
  readonly meta: {
    readonly type: 'problem' | 'suggestion' | 'layout';
    readonly docs: { readonly description: string };
    readonly hasSuggestions: boolean;
    readonly messages: Readonly<Record<string, string>>;
    readonly schema: readonly unknown[];
  };
  create(context: any): Record<string, (node: any) => void>;
}

/** The ESTree nodes the rule reads (typescript-eslint's, loosely). */
interface Node {
  type: string;
  parent?: Node;
  range: [number, number];
  [key: string]: any;
}

/** Where a call takes a signal: at parameter `index`, as itself or as `signal` in an options object. */
interface Slot {
  index: number;
  kind: 'signal' | 'options';
}

/** The names that type checking gives the rule, from typescript-eslint's parser services. */
interface Types {
  checker: ts.TypeChecker;
  tsNode(node: Node): ts.Node;
}

const SIGNAL = 'AbortSignal';
/** `ts.SymbolFlags.Optional` (the same value since TypeScript 2): an optional property. */
const OPTIONAL = 1 << 24;
/** `ts.TypeFlags.Any | ts.TypeFlags.Unknown`. */
const ANY_OR_UNKNOWN = 1 | 2;

/** The parts of `type` once `null` and `undefined` are taken out: the members of a union, or itself. */
function partsOf(types: Types, type: ts.Type): readonly ts.Type[] {
  const t = types.checker.getNonNullableType(type);
  return t.isUnion() ? t.types : [t];
}

function isAbortSignal(type: ts.Type): boolean {
  return (type.getSymbol() ?? type.aliasSymbol)?.getName() === SIGNAL;
}

/** True if `type` is an `AbortSignal` (maybe `undefined`): what a signal in scope is. */
function isSignalType(types: Types, type: ts.Type): boolean {
  const parts = partsOf(types, type);
  return parts.length > 0 && parts.every(isAbortSignal);
}

/**
 * True if one part of `type` is an options object: it has an optional `signal`
 * property that takes an `AbortSignal` (a `Request`, whose `signal` is not
 * optional, is not one).
 */
function hasSignalOption(types: Types, type: ts.Type, at: ts.Node): boolean {
  return partsOf(types, type).some((part) => {
    const prop = part.getProperty('signal');
    if (prop === undefined || (prop.flags & OPTIONAL) === 0) return false;
    const type = types.checker.getTypeOfSymbolAtLocation(prop, at);
    // undici types its `signal` option as `unknown | EventEmitter | null`: an optional
    // `signal` of type `unknown` or `any` counts too.
    return (type.flags & ANY_OR_UNKNOWN) !== 0 || partsOf(types, type).some(isAbortSignal);
  });
}

/** True if one part of `type` has a `signal` property at all (the options already carry one). */
function hasSignalProperty(types: Types, type: ts.Type): boolean {
  return partsOf(types, type).some((part) => part.getProperty('signal') !== undefined);
}

/**
 * Where the call takes a signal, or `null`: in the signature the call
 * resolves to, or else in another overload, past the arguments given
 * (`sleep(ms)` resolves to `sleep(ms: number)`; `sleep(ms, value, opts)` takes one).
 */
function slotOf(types: Types, call: Node): Slot | null {
  const tsCall = types.tsNode(call);
  const resolved = types.checker.getResolvedSignature(tsCall as ts.CallLikeExpression);
  if (resolved === undefined) return null;
  const found = slotIn(types, resolved, tsCall);
  if (found !== null) return found;
  const callee = types.checker.getTypeAtLocation(types.tsNode(call.callee));
  const overloads =
    call.type === 'NewExpression' ? callee.getConstructSignatures() : callee.getCallSignatures();
  for (const signature of overloads) {
    if (signature === resolved) continue;
    const slot = slotIn(types, signature, tsCall);
    if (slot !== null && slot.index >= call.arguments.length) return slot;
  }
  return null;
}

/** Where `signature` takes a signal, or `null`. A rest parameter never counts. */
function slotIn(types: Types, signature: ts.Signature, tsCall: ts.Node): Slot | null {
  const params = signature.getParameters();
  for (let index = 0; index < params.length; index++) {
    const param = params[index]!;
    const decl = param.valueDeclaration as ts.ParameterDeclaration | undefined;
    if (decl?.dotDotDotToken !== undefined) return null;
    const type = types.checker.getTypeOfSymbolAtLocation(param, tsCall);
    if (partsOf(types, type).some(isAbortSignal)) return { index, kind: 'signal' };
    if (hasSignalOption(types, type, tsCall)) return { index, kind: 'options' };
  }
  return null;
}

/** True if the argument given in an options slot carries no signal and could: a literal without one, or an object type without one. */
function lacksSignal(types: Types, arg: Node): boolean {
  const type = types.checker.getTypeAtLocation(types.tsNode(arg));
  if (hasSignalProperty(types, type)) return false;
  if (arg.type === 'ObjectExpression') return true;
  // Only object types: `undefined`, a string, a number given there were chosen on purpose.
  const parts = partsOf(types, type);
  return parts.length > 0 && parts.every((part) => part.getSymbol() !== undefined && !isAbortSignal(part));
}

/**
 * True for a call in a `catch` or `finally` block between it and the
 * function that owns the signal: cleanup, which runs once the signal may have
 * aborted, and must not be given it (it would stop at once).
 */
function inCleanup(call: Node, owner: Node): boolean {
  for (
    let child = call, node = call.parent;
    node !== undefined && child !== owner;
    child = node, node = node.parent
  ) {
    if (node.type === 'CatchClause' || (node.type === 'TryStatement' && node.finalizer === child))
      return true;
  }
  return false;
}

/** True for `fooSync(...)`: a call that blocks cannot be cancelled (`writeFileSync` shares `writeFile`'s options type). */
function isSync(call: Node): boolean {
  const callee = call.callee;
  const name = callee.type === 'MemberExpression' ? callee.property?.name : callee.name;
  return typeof name === 'string' && name.endsWith('Sync');
}

/** The text of `{ signal }` for a signal variable named `name`. */
function optionText(name: string): string {
  return name === 'signal' ? '{ signal }' : `{ signal: ${name} }`;
}

/** The callee as the message names it: `sleep()`, `queue.get()`, or `this call`. */
function calleeName(source: { getText(node: Node): string }, call: Node): string {
  const text = source.getText(call.callee).replace(/\s+/g, ' ');
  const name = text.length <= 40 ? `${text}()` : 'this call';
  return call.type === 'NewExpression' ? `new ${name}` : name;
}

/**
 * `tsaio/pass-signal`: inside a function with an `AbortSignal` in scope, a
 * call that accepts a signal and is not given it is reported, with a
 * suggestion that passes it (`{ signal }`, or the signal in the position the
 * function takes it). Part of `recommended`.
 *
 * @example Reported, and the fix it suggests
 * ```ts
 * import { passSignal } from 'tsaio/eslint';
 * console.log(passSignal.meta.messages['missing']); // {{callee}} accepts an AbortSignal ...
 * // createTask(async (signal) => {
 * //   await fetch(url);               // reported: fetch() accepts an AbortSignal but is not given 'signal'
 * //   await fetch(url, { signal });   // the suggested fix
 * // });
 * ```
 */
export const passSignal: LintRule = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Pass the AbortSignal in scope to calls that accept one, so that a timeout or a cancellation stops them',
    },
    hasSuggestions: true,
    messages: {
      missing:
        "{{callee}} accepts an AbortSignal but is not given '{{name}}': when '{{name}}' aborts, this call goes on, and a timeout waits for it to end.",
      pass: 'Pass {{what}}.',
    },
    schema: [],
  },
  create(context): Record<string, (node: Node) => void> {
    const source = context.sourceCode;
    const services = source.parserServices as
      { program?: ts.Program | null; esTreeNodeToTSNodeMap?: { get(node: Node): ts.Node } } | undefined;
    const map = services?.esTreeNodeToTSNodeMap;
    if (services?.program == null || map === undefined) return {};
    const types: Types = { checker: services.program.getTypeChecker(), tsNode: (node) => map.get(node) };
    const own = new Map<object, string | null>();

    /** The name of the `AbortSignal` parameter a function scope declares, or `null`. */
    function signalOfScope(scope: any): string | null {
      let found = own.get(scope);
      if (found !== undefined) return found;
      found = null;
      for (const variable of scope.variables) {
        const def = variable.defs.find((d: any) => d.type === 'Parameter');
        if (def === undefined) continue;
        if (isSignalType(types, types.checker.getTypeAtLocation(types.tsNode(def.name)))) {
          found = variable.name as string;
          break;
        }
      }
      own.set(scope, found);
      return found;
    }

    /** The nearest `AbortSignal` parameter in scope at `node` and the function that declares it, or `null`. */
    function signalInScope(node: Node): { name: string; owner: Node } | null {
      for (let scope = source.getScope(node); scope !== null; scope = scope.upper) {
        if (scope.type !== 'function') continue;
        const name = signalOfScope(scope);
        if (name !== null) return { name, owner: scope.block };
      }
      return null;
    }

    /** True for a call on the signal itself (`signal.addEventListener(...)`). */
    function onTheSignal(call: Node): boolean {
      const callee = call.callee;
      if (callee.type !== 'MemberExpression') return false;
      return isSignalType(types, types.checker.getTypeAtLocation(types.tsNode(callee.object)));
    }

    function check(call: Node): void {
      const args: Node[] = call.arguments;
      if (args.some((a) => a.type === 'SpreadElement') || isSync(call)) return;
      const found = signalInScope(call);
      if (found === null || inCleanup(call, found.owner) || onTheSignal(call)) return;
      const name = found.name;
      const slot = slotOf(types, call);
      if (slot === null) return;
      const given = args[slot.index];
      if (given !== undefined && (slot.kind === 'signal' || !lacksSignal(types, given))) return;
      const value = slot.kind === 'signal' ? name : optionText(name);
      context.report({
        node: call,
        messageId: 'missing',
        data: { callee: calleeName(source, call), name },
        suggest: [
          {
            messageId: 'pass',
            data: { what: value },
            fix: (fixer: any) => fix(fixer, call, slot, given, name),
          },
        ],
      });
    }

    function fix(fixer: any, call: Node, slot: Slot, given: Node | undefined, name: string): unknown {
      const value = slot.kind === 'signal' ? name : optionText(name);
      if (given !== undefined) {
        // An options value without a signal: an object literal gets one more property, anything else is spread.
        if (given.type !== 'ObjectExpression')
          return fixer.replaceText(
            given,
            `{ ...${source.getText(given)}, signal${name === 'signal' ? '' : `: ${name}`} }`,
          );
        const props: Node[] = given.properties;
        if (props.length === 0) return fixer.replaceText(given, value);
        return fixer.insertTextAfter(
          props[props.length - 1],
          name === 'signal' ? ', signal' : `, signal: ${name}`,
        );
      }
      const args: Node[] = call.arguments;
      const fill = Array.from({ length: slot.index - args.length }, () => 'undefined');
      const list = [...fill, value].join(', ');
      if (args.length > 0) return fixer.insertTextAfter(args[args.length - 1], `, ${list}`);
      const last = source.getLastToken(call);
      if (last?.value === ')') return fixer.insertTextBefore(last, list);
      return fixer.insertTextAfter(call, `(${list})`); // `new Thing` without parentheses
    }

    return { CallExpression: check, NewExpression: check };
  },
};
