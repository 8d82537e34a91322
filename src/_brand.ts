/**
 * Private: the brand of tsaio's error classes, after undici's errors. Each
 * class gets `name` (its class name) and a stable `code` on its prototype,
 * and an `instanceof` that holds across two installed copies of tsaio: it
 * checks a `Symbol.for` brand set on the prototype chain, not the prototype
 * identity. The core's errors (`exceptions.ts`) and every part's
 * (`http/errors.ts`, `pg/errors.ts`, ...) are branded here.
 *
 * @module
 */

const kBrands = Symbol.for('tsaio.error.brands');

type Branded = { [kBrands]?: ReadonlySet<string> };

/**
 * Brands `cls`: its `name`, its `code` — or, for `null`, none on the class:
 * each error carries its own (a SQLSTATE, a SQLite result code) — and a
 * cross-copy `instanceof`. A part's classes are branded under the part's
 * name (`'pg'` brands `DataError` as `tsaio/pg:DataError`), so that two
 * parts' classes of the same name stay apart; the core's keep their bare
 * names. Brand a class after its parent.
 */
export function brand(cls: abstract new (...args: any[]) => Error, code: string | null, part?: string): void {
  const key = part === undefined ? cls.name : `tsaio/${part}:${cls.name}`;
  const parent = Object.getPrototypeOf(cls.prototype) as Branded;
  const brands = new Set(parent[kBrands] ?? []);
  brands.add(key);
  Object.defineProperty(cls.prototype, 'name', { value: cls.name, writable: true, configurable: true });
  if (code !== null) {
    Object.defineProperty(cls.prototype, 'code', { value: code, writable: true, configurable: true });
  }
  Object.defineProperty(cls.prototype, kBrands, { value: brands });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, obj: unknown): boolean {
      // Subclasses of a tsaio error keep the ordinary prototype check.
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, obj);
      return typeof obj === 'object' && obj !== null && ((obj as Branded)[kBrands]?.has(key) ?? false);
    },
  });
}
