/**
 * The layers a configuration value was merged from, highest precedence first
 * (`--set` arguments, then the recipe, then what it extends). A JSON Pointer
 * is located in the first layer that defines it, which is the layer whose
 * value won the merge; a pointer no layer defines (a missing required key) is
 * located at its nearest defined parent.
 */
import type { SourceText } from "./diagnostic.js";
import type { LocatedDocument, Range } from "./yaml-source.js";

export interface Location {
  source: SourceText;
  range: Range;
}

export class SourceStack {
  readonly #layers: readonly LocatedDocument[];

  /** `layers`: highest precedence first; must not be empty. */
  constructor(layers: readonly LocatedDocument[]) {
    if (layers.length === 0) throw new Error("SourceStack needs at least one layer");
    this.#layers = layers;
  }

  locate(pointer: string, preferKey: boolean): Location {
    let current = pointer;
    let useKey = preferKey;
    for (;;) {
      for (const layer of this.#layers) {
        const location = layer.locations.get(current);
        if (location !== undefined) {
          return {
            source: layer.source,
            range: useKey && location.key !== undefined ? location.key : location.value,
          };
        }
      }
      if (current === "") break;
      current = current.slice(0, current.lastIndexOf("/"));
      // Pointing at a parent because the child is absent: its key reads best.
      useKey = true;
    }
    const main = this.#layers.find((layer) => layer.locations.has("")) ?? this.#layers[0];
    return { source: (main as LocatedDocument).source, range: { offset: 0, length: 0 } };
  }
}
