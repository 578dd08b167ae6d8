/**
 * The layers a configuration value was merged from, highest precedence first
 * (`--set` arguments, then the recipe, then what it extends). Maps merge key
 * by key; lists, scalars and `--set` values replace what lower layers hold.
 * A JSON Pointer is located in the layer whose value won the merge: the
 * first layer that defines it, unless a layer above replaced one of its
 * ancestors (a `--set` list, a list in the recipe over its base's), in which
 * case the value came from that layer. A pointer no layer defines (a missing
 * required key, a default) is located at its nearest defined parent.
 */
import { createDiagnostic, type Diagnostic, type SourceText } from "./diagnostic.js";
import type { LocatedDocument, Range } from "./yaml-source.js";

export interface Location {
  source: SourceText;
  range: Range;
}

/** Which layer decides a pointer, and the pointer that layer defines at or above it. */
interface Owner {
  layer: LocatedDocument;
  defined: string;
}

export class SourceStack {
  readonly #layers: readonly LocatedDocument[];

  /** `layers`: highest precedence first; must not be empty. */
  constructor(layers: readonly LocatedDocument[]) {
    if (layers.length === 0) throw new Error("SourceStack needs at least one layer");
    this.#layers = layers;
  }

  /**
   * Where the value at `pointer` came from: its value's text, or its key's
   * with `preferKey`. An absent value is located at the key of its nearest
   * defined parent.
   */
  locate(pointer: string, preferKey: boolean): Location {
    for (let current: string | undefined = pointer; current !== undefined; ) {
      const owner = this.#ownerOf(current);
      if (owner !== undefined) {
        const location = owner.layer.locations.get(owner.defined);
        if (location === undefined) throw new Error(`expected ${owner.defined} to be located`);
        // Pointing at a parent because the child is absent: its key reads best.
        const useKey = owner.defined === pointer ? preferKey : true;
        return {
          source: owner.layer.source,
          range: useKey && location.key !== undefined ? location.key : location.value,
        };
      }
      current = parentOf(current);
    }
    const main = this.#layers.find((layer) => layer.locations.has("")) ?? this.#layers[0];
    return { source: (main as LocatedDocument).source, range: { offset: 0, length: 0 } };
  }

  /** A diagnostic about the value at `pointer`, located as `locate` does. */
  diagnostic(pointer: string, message: string, options: { preferKey?: boolean } = {}): Diagnostic {
    const at = this.locate(pointer, options.preferKey ?? false);
    return { ...createDiagnostic(at.source, at.range, message), pointer };
  }

  /** Whether some layer gives the value at `pointer` (false: it is absent or a schema default). */
  isSet(pointer: string): boolean {
    return this.#ownerOf(pointer)?.defined === pointer;
  }

  /**
   * The first layer that defines `pointer` or replaces one of its ancestors;
   * `defined` is `pointer` itself when that layer gives it, else that layer's
   * nearest definition above it. Undefined when every layer only merges maps
   * above it without giving it.
   */
  #ownerOf(pointer: string): Owner | undefined {
    for (const layer of this.#layers) {
      if (layer.locations.has(pointer)) return { layer, defined: pointer };
      let nearest: string | undefined;
      for (let above = parentOf(pointer); above !== undefined; above = parentOf(above)) {
        const location = layer.locations.get(above);
        if (location === undefined) continue;
        nearest ??= above;
        if (location.replaces) return { layer, defined: nearest };
      }
    }
    return undefined;
  }
}

/** `/a/b` → `/a`, `/a` → `` (the root), the root → undefined. */
function parentOf(pointer: string): string | undefined {
  return pointer === "" ? undefined : pointer.slice(0, pointer.lastIndexOf("/"));
}
