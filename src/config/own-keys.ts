/**
 * Reading and writing configuration maps by own keys only. Configuration
 * keys come from users: with plain `obj[key]`, the key `__proto__` reads
 * Object.prototype and assigning it replaces the object's prototype (or, one
 * level down, pollutes every object in the process); `constructor` reads a
 * function. Here such keys are ordinary data that the schema then rejects.
 */

/** The value of `key` when `map` has it as its own key, else undefined. */
export function ownValue(map: object, key: string): unknown {
  return Object.hasOwn(map, key) ? (map as Record<string, unknown>)[key] : undefined;
}

/** Sets `key` as an own, enumerable data property, whatever its name. */
export function defineKey(map: object, key: string, value: unknown): void {
  Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
}
