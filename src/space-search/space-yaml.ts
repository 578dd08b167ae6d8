/**
 * The chosen space as a `search_space:` block to paste into a recipe, in the
 * style of the shipped recipes (one flow mapping per stage).
 */
import { Document, isMap, isSeq } from "yaml";
import type { SearchSpaceConfig } from "../config/types.js";

export function renderSearchSpaceYaml(space: SearchSpaceConfig, header: readonly string[]): string {
  const document = new Document({ search_space: space });
  const root = document.get("search_space");
  if (isMap(root)) {
    const stages = root.get("stages");
    if (isSeq(stages)) for (const stage of stages.items) if (isMap(stage)) stage.flow = true;
    for (const key of ["stem", "head"]) {
      const node = root.get(key);
      if (isMap(node)) node.flow = true;
    }
  }
  document.commentBefore = header.map((line) => ` ${line}`).join("\n");
  return document.toString({ lineWidth: 120, flowCollectionPadding: false });
}
