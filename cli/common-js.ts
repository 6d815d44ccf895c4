/** Importing a CommonJS dependency when it is needed, the same way under Node, tsx and the bundle. */

/**
 * A CommonJS module's exports from import(): Node (and tsx) give them as named exports, the
 * bundle's chunk of a CommonJS module only as its default export.
 */
export function commonJs<T extends object>(module: T & { default?: T }): T {
  return Object.keys(module).length === 1 && module.default ? module.default : module;
}
